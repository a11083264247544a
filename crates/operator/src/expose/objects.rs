//! What exposing a port changes in the Service and the Ingress, as pure functions over the
//! objects: the cluster half ([`super::ClusterExposer`]) reads an object, applies one of
//! these, and writes it back only when it says something changed, so re-asserting an
//! exposure every few seconds from every replica costs reads, not writes.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{Service, ServicePort};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressTLS, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use tinyhost_capabilities::http_server::Exposure;

/// The Ingress annotation whose value makes automatic host names:
/// `<last part of the node name>-<value>` (upstream's `IngressHostNameSuffixAnnotation`).
pub const HOSTNAME_SUFFIX_ANNOTATION: &str = "tinysystems.io/ingress-hostname-suffix";

/// The name of the Service port that exposes `port` (upstream's naming, so an upstream
/// module and tinyhost recognise each other's ports).
pub fn service_port_name(port: u16) -> String {
    format!("port{port}")
}

/// Adds `port{N}` (`N` → `N`, TCP) to the Service unless some port already is `N`;
/// whether the Service changed.
pub fn add_service_port(service: &mut Service, port: u16) -> bool {
    let number = i32::from(port);
    let ports = service
        .spec
        .get_or_insert_with(Default::default)
        .ports
        .get_or_insert_with(Vec::new);
    if ports.iter().any(|p| p.port == number) {
        return false;
    }
    ports.push(ServicePort {
        name: Some(service_port_name(port)),
        port: number,
        target_port: Some(IntOrString::Int(number)),
        protocol: Some("TCP".to_string()),
        ..ServicePort::default()
    });
    true
}

/// Removes the `port{N}` entry [`add_service_port`] adds (never a port of another name,
/// such as the chart's own); whether the Service changed.
pub fn remove_service_port(service: &mut Service, port: u16) -> bool {
    let name = service_port_name(port);
    let Some(ports) = service.spec.as_mut().and_then(|s| s.ports.as_mut()) else {
        return false;
    };
    let before = ports.len();
    ports.retain(|p| !(p.port == i32::from(port) && p.name.as_deref() == Some(name.as_str())));
    ports.len() != before
}

/// The automatic host name of `node`: the last dot-separated part of its name, a `-`, and
/// the Ingress's suffix (`1a2b.http-module.http-server-x7k2p` with `apps.example.com` →
/// `http-server-x7k2p-apps.example.com`), as upstream makes it; `None` without a suffix.
pub fn auto_hostname(node: &str, suffix: &str) -> Option<String> {
    let suffix = suffix.trim();
    let last = node.rsplit('.').next().unwrap_or_default();
    if suffix.is_empty() || last.is_empty() {
        return None;
    }
    Some(format!("{last}-{suffix}").to_ascii_lowercase())
}

/// Whether `host` can be an Ingress rule's host and a Secret name's stem: a DNS-1123
/// subdomain (no wildcard, no port).
pub fn is_valid_hostname(host: &str) -> bool {
    // `<host>-tls` must still be a valid Secret name (at most 253 characters).
    host.len() <= 249
        && tinyhost_flow::manifest::is_rfc1123_subdomain(host)
        && host.split('.').all(|label| label.len() <= 63)
}

/// The host names an exposure asks for on an Ingress whose hostname suffix is `suffix`:
/// the given names (trimmed, lower-cased, without duplicates) and, when asked for and the
/// Ingress has a suffix, the automatic one. Names an Ingress cannot carry are returned
/// apart, to be reported rather than break every other name's update.
pub fn requested_hosts(
    node: &str,
    exposure: &Exposure,
    suffix: Option<&str>,
) -> (Vec<String>, Vec<String>) {
    let mut seen = BTreeSet::new();
    let mut hosts = Vec::new();
    let mut rejected = Vec::new();
    let automatic = exposure
        .auto_hostname
        .then(|| suffix.and_then(|s| auto_hostname(node, s)))
        .flatten();
    for host in exposure
        .hostnames
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| !h.is_empty())
        .chain(automatic)
    {
        if !seen.insert(host.clone()) {
            continue;
        }
        if is_valid_hostname(&host) {
            hosts.push(host);
        } else {
            rejected.push(host);
        }
    }
    (hosts, rejected)
}

/// The Ingress's hostname suffix annotation, if set.
pub fn hostname_suffix(ingress: &Ingress) -> Option<&str> {
    ingress
        .metadata
        .annotations
        .as_ref()?
        .get(HOSTNAME_SUFFIX_ANNOTATION)
        .map(String::as_str)
        .filter(|s| !s.trim().is_empty())
}

/// The rule value that sends every path of a host to `service`'s `port`.
fn route(service: &str, port: u16) -> HTTPIngressRuleValue {
    HTTPIngressRuleValue {
        paths: vec![HTTPIngressPath {
            path: Some("/".to_string()),
            path_type: "Prefix".to_string(),
            backend: IngressBackend {
                service: Some(IngressServiceBackend {
                    name: service.to_string(),
                    port: Some(ServiceBackendPort {
                        number: Some(i32::from(port)),
                        name: None,
                    }),
                }),
                resource: None,
            },
        }],
    }
}

fn routes_to(backend: &IngressBackend, service: &str, port: u16) -> bool {
    backend.service.as_ref().is_some_and(|s| {
        s.name == service
            && s.port
                .as_ref()
                .is_some_and(|p| p.number == Some(i32::from(port)))
    })
}

/// Makes every host of `hosts` route `/` (Prefix) to `service`'s `port` — a rule of the
/// same host that routes elsewhere is replaced — and gives each host not yet in any TLS
/// entry one of its own, `{hosts: [host], secretName: "<host>-tls"}`; whether the Ingress
/// changed.
pub fn route_hosts(ingress: &mut Ingress, service: &str, port: u16, hosts: &[String]) -> bool {
    if hosts.is_empty() {
        return false;
    }
    let wanted = route(service, port);
    let spec = ingress.spec.get_or_insert_with(Default::default);
    let mut changed = false;
    let rules = spec.rules.get_or_insert_with(Vec::new);
    for host in hosts {
        match rules.iter_mut().find(|r| r.host.as_deref() == Some(host)) {
            Some(rule) if rule.http.as_ref() == Some(&wanted) => {}
            Some(rule) => {
                rule.http = Some(wanted.clone());
                changed = true;
            }
            None => {
                rules.push(IngressRule {
                    host: Some(host.clone()),
                    http: Some(wanted.clone()),
                });
                changed = true;
            }
        }
    }
    let tls = spec.tls.get_or_insert_with(Vec::new);
    for host in hosts {
        let covered = tls
            .iter()
            .any(|t| t.hosts.iter().flatten().any(|h| h == host));
        if !covered {
            tls.push(IngressTLS {
                hosts: Some(vec![host.clone()]),
                secret_name: Some(format!("{host}-tls")),
            });
            changed = true;
        }
    }
    changed
}

/// Takes out what [`route_hosts`] put in for `service`'s `port`: the paths that route
/// there, the rules left without a path, and the TLS hosts of the dropped rules that no
/// remaining rule serves (an entry left without hosts goes too); whether the Ingress
/// changed.
pub fn unroute_port(ingress: &mut Ingress, service: &str, port: u16) -> bool {
    let Some(spec) = ingress.spec.as_mut() else {
        return false;
    };
    let mut changed = false;
    let mut dropped = BTreeSet::new();
    if let Some(rules) = spec.rules.as_mut() {
        for rule in rules.iter_mut() {
            if let Some(http) = rule.http.as_mut() {
                let before = http.paths.len();
                http.paths.retain(|p| !routes_to(&p.backend, service, port));
                if http.paths.len() != before {
                    changed = true;
                    if http.paths.is_empty() {
                        dropped.extend(rule.host.clone());
                    }
                }
            }
        }
        rules.retain(|r| r.http.as_ref().is_none_or(|h| !h.paths.is_empty()));
        for rule in rules.iter() {
            if let Some(host) = &rule.host {
                dropped.remove(host);
            }
        }
    }
    if !dropped.is_empty()
        && let Some(tls) = spec.tls.as_mut()
    {
        tls.retain_mut(|entry| {
            let Some(hosts) = entry.hosts.as_mut() else {
                return true;
            };
            let before = hosts.len();
            hosts.retain(|h| !dropped.contains(h));
            if hosts.len() == before {
                return true;
            }
            changed = true;
            !hosts.is_empty()
        });
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(ports: serde_json::Value) -> Service {
        serde_json::from_value(json!({
            "metadata": {"name": "web"},
            "spec": {"ports": ports}
        }))
        .expect("a Service")
    }

    fn ingress(spec: serde_json::Value) -> Ingress {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "annotations": {HOSTNAME_SUFFIX_ANNOTATION: "apps.example.com"}},
            "spec": spec
        }))
        .expect("an Ingress")
    }

    fn exposure(hostnames: &[&str], auto: bool) -> Exposure {
        Exposure {
            hostnames: hostnames.iter().map(|h| h.to_string()).collect(),
            auto_hostname: auto,
            tls: false,
        }
    }

    fn hosts(list: &[&str]) -> Vec<String> {
        list.iter().map(|h| h.to_string()).collect()
    }

    #[test]
    fn a_service_port_is_added_once_and_removed_by_name() {
        let mut svc = service(json!([{"name": "grpc", "port": 8483, "targetPort": "grpc"}]));
        assert!(add_service_port(&mut svc, 31000));
        assert!(!add_service_port(&mut svc, 31000), "already there");
        assert!(
            !add_service_port(&mut svc, 8483),
            "a port of that number exists"
        );
        let ports = serde_json::to_value(&svc.spec.as_ref().expect("spec").ports).expect("json");
        assert_eq!(
            ports,
            json!([
                {"name": "grpc", "port": 8483, "targetPort": "grpc"},
                {"name": "port31000", "port": 31000, "targetPort": 31000, "protocol": "TCP"}
            ])
        );
        assert!(
            !remove_service_port(&mut svc, 8483),
            "the chart's port stays"
        );
        assert!(remove_service_port(&mut svc, 31000));
        assert!(!remove_service_port(&mut svc, 31000));
        assert_eq!(
            svc.spec
                .as_ref()
                .and_then(|s| s.ports.as_ref())
                .map(Vec::len),
            Some(1)
        );
        let mut bare = Service::default();
        assert!(add_service_port(&mut bare, 80));
    }

    #[test]
    fn the_automatic_host_name_is_the_node_names_last_part_and_the_suffix() {
        assert_eq!(
            auto_hostname("1a2b3c4d.http-module.http-server-x7k2p", "apps.example.com").as_deref(),
            Some("http-server-x7k2p-apps.example.com")
        );
        assert_eq!(
            auto_hostname("server", "S.example.com").as_deref(),
            Some("server-s.example.com")
        );
        assert_eq!(auto_hostname("a.b.c", " "), None);
        assert_eq!(auto_hostname("a.b.", "x.com"), None);
    }

    #[test]
    fn requested_hosts_are_cleaned_deduplicated_and_checked() {
        let node = "1a2b.http-module.http-server-x7k2p";
        let (ok, bad) = requested_hosts(
            node,
            &exposure(
                &[
                    " Echo.Example.com ",
                    "echo.example.com",
                    "",
                    "bad_host",
                    "*.x.com",
                    "h:8080",
                ],
                true,
            ),
            Some("apps.example.com"),
        );
        assert_eq!(
            ok,
            hosts(&["echo.example.com", "http-server-x7k2p-apps.example.com"])
        );
        assert_eq!(bad, hosts(&["bad_host", "*.x.com", "h:8080"]));
        let (ok, _) = requested_hosts(node, &exposure(&["a.com"], false), Some("apps.example.com"));
        assert_eq!(ok, hosts(&["a.com"]), "no automatic name unless asked");
        let (ok, _) = requested_hosts(node, &exposure(&[], true), None);
        assert!(ok.is_empty(), "no automatic name without a suffix");
    }

    #[test]
    fn the_suffix_comes_from_the_annotation() {
        assert_eq!(
            hostname_suffix(&ingress(json!({}))),
            Some("apps.example.com")
        );
        assert_eq!(hostname_suffix(&Ingress::default()), None);
    }

    #[test]
    fn hosts_get_a_rule_and_a_tls_entry_and_a_second_pass_changes_nothing() {
        let mut ing = ingress(json!({
            "rules": [{"host": "web.flows.invalid"}],
            "tls": [{"hosts": ["static.example.com"], "secretName": "static"}]
        }));
        let wanted = hosts(&["echo.example.com", "static.example.com"]);
        assert!(route_hosts(&mut ing, "web", 31000, &wanted));
        let spec = serde_json::to_value(ing.spec.as_ref().expect("spec")).expect("json");
        let rule = |host: &str| {
            json!({"host": host, "http": {"paths": [{"path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "web", "port": {"number": 31000}}}}]}})
        };
        assert_eq!(
            spec,
            json!({
                "rules": [{"host": "web.flows.invalid"}, rule("echo.example.com"), rule("static.example.com")],
                "tls": [
                    {"hosts": ["static.example.com"], "secretName": "static"},
                    {"hosts": ["echo.example.com"], "secretName": "echo.example.com-tls"}
                ]
            })
        );
        assert!(
            !route_hosts(&mut ing, "web", 31000, &wanted),
            "identical: no update"
        );
        assert!(!route_hosts(&mut ing, "web", 31000, &[]));
    }

    #[test]
    fn a_rule_of_the_same_host_that_routes_elsewhere_is_replaced() {
        let mut ing = ingress(
            json!({"rules": [{"host": "echo.example.com", "http": {"paths": [
                {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 1}}}}
            ]}}]}),
        );
        assert!(route_hosts(
            &mut ing,
            "web",
            2,
            &hosts(&["echo.example.com"])
        ));
        let rules = ing
            .spec
            .as_ref()
            .and_then(|s| s.rules.clone())
            .unwrap_or_default();
        assert_eq!(rules.len(), 1);
        let backend = rules[0].http.as_ref().map(|h| h.paths[0].backend.clone());
        assert!(backend.is_some_and(|b| routes_to(&b, "web", 2)));
    }

    #[test]
    fn unrouting_a_port_takes_out_its_rules_and_tls_hosts_only() {
        let mut ing = ingress(json!({
            "rules": [
                {"host": "web.flows.invalid"},
                {"host": "other.example.com", "http": {"paths": [
                    {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 9}}}}]}},
                {"host": "mixed.example.com", "http": {"paths": [
                    {"path": "/a", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 7}}}},
                    {"path": "/b", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}
            ],
            "tls": [{"hosts": ["static.example.com", "one.example.com"], "secretName": "static"}]
        }));
        assert!(route_hosts(
            &mut ing,
            "web",
            7,
            &hosts(&["one.example.com", "two.example.com"])
        ));
        assert!(unroute_port(&mut ing, "web", 7));
        let spec = serde_json::to_value(ing.spec.as_ref().expect("spec")).expect("json");
        assert_eq!(
            spec,
            json!({
                "rules": [
                    {"host": "web.flows.invalid"},
                    {"host": "other.example.com", "http": {"paths": [
                        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 9}}}}]}},
                    {"host": "mixed.example.com", "http": {"paths": [
                        {"path": "/b", "pathType": "Prefix", "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}
                ],
                "tls": [{"hosts": ["static.example.com"], "secretName": "static"}]
            })
        );
        assert!(
            !unroute_port(&mut ing, "web", 7),
            "nothing left to take out"
        );
        assert!(!unroute_port(&mut Ingress::default(), "web", 7));
    }
}
