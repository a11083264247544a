//! The generated protocol types and service (from `proto/module.proto`).

#![allow(missing_docs, clippy::all)]

tonic::include_proto!("module");
