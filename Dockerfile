# syntax=docker/dockerfile:1
#
# The tinyhost image: one binary that runs any Tiny Systems module (`tinyhost operator`),
# plus the Go toolchain that wasm_eval nodes compile inline Go programs with.
#
#   docker build -t tinyhost:0.1.0 .
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts.

ARG RUST_VERSION=1.95
ARG GO_VERSION=1.24
ARG DEBIAN_RELEASE=bookworm

# --- build: the tinyhost binary, with the built-in components embedded ----------------
FROM rust:${RUST_VERSION}-${DEBIAN_RELEASE} AS build
# The crate's build script compiles the built-in components for this target.
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
# The target directory lives in a cache mount, so the binary is copied out of it in the
# same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p tinyhost \
 && mkdir -p /out \
 && cp target/release/tinyhost /out/tinyhost \
 && strip /out/tinyhost

# --- go: the toolchain wasm_eval compiles inline Go programs with ----------------------
FROM golang:${GO_VERSION}-${DEBIAN_RELEASE} AS go
# Tests, docs and API lists are not needed to build programs.
RUN rm -rf /usr/local/go/test /usr/local/go/doc /usr/local/go/api

# --- runtime ---------------------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=go /usr/local/go /usr/local/go
COPY --from=build /out/tinyhost /usr/local/bin/tinyhost
# `/manager run ...` (what upstream module charts run) works too: invoked as `manager`,
# tinyhost treats `run` as `operator`.
RUN ln -s /usr/local/bin/tinyhost /manager \
 && mkdir -p /var/cache/tinyhost \
 && chown 65532:65532 /var/cache/tinyhost
# Writable state (precompiled components, compiled programs, the Go build cache) stays
# under one directory, which the chart mounts as an emptyDir on a read-only root.
ENV HOME=/var/cache/tinyhost \
    TINYHOST_CACHE_DIR=/var/cache/tinyhost \
    TINYHOST_GO=/usr/local/go/bin/go \
    GOTOOLCHAIN=local \
    PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
USER 65532:65532
WORKDIR /var/cache/tinyhost
# gRPC between modules, /metrics, /healthz and /readyz.
EXPOSE 8483 8080 8081
ENTRYPOINT ["/usr/local/bin/tinyhost"]
CMD ["operator", "--help"]
