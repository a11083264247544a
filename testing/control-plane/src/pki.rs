//! The control plane's certificates and keys, made fresh for each start: a CA, the API
//! server's serving certificate (for 127.0.0.1 and the in-cluster names), an admin client
//! certificate (group `system:masters`, which RBAC lets do anything), and the key pair that
//! signs service-account tokens (`TokenRequest`). All are written as PEM files beside the
//! kubeconfig that uses them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

use crate::error::ControlPlaneError;

/// The files the servers and clients read.
#[derive(Debug, Clone)]
pub struct Pki {
    /// The CA certificate (clients trust it; the API server checks client certificates with it).
    pub ca_cert: PathBuf,
    /// The API server's certificate and key.
    pub serving_cert: PathBuf,
    /// Its key.
    pub serving_key: PathBuf,
    /// The service-account signing key (private) and its public half.
    pub sa_key: PathBuf,
    /// The public half.
    pub sa_pub: PathBuf,
    /// The admin's client certificate and key, PEM text (for the kubeconfig).
    pub admin_cert_pem: String,
    /// Its key.
    pub admin_key_pem: String,
    /// The CA certificate, PEM text.
    pub ca_cert_pem: String,
}

fn pki_error(e: rcgen::Error) -> ControlPlaneError {
    ControlPlaneError::Pki(e.to_string())
}

fn write(dir: &Path, name: &str, text: &str) -> Result<PathBuf, ControlPlaneError> {
    let path = dir.join(name);
    std::fs::write(&path, text)
        .map_err(ControlPlaneError::io(format!("writing {}", path.display())))?;
    Ok(path)
}

/// Makes every certificate and key into `dir`.
pub fn make(dir: &Path) -> Result<Pki, ControlPlaneError> {
    let ca_key = KeyPair::generate().map_err(pki_error)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(pki_error)?;
    ca.distinguished_name
        .push(DnType::CommonName, "tinyhost test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(pki_error)?;

    let serving_key = KeyPair::generate().map_err(pki_error)?;
    let mut serving = CertificateParams::new(vec![
        "127.0.0.1".to_string(),
        "localhost".to_string(),
        "kubernetes".to_string(),
        "kubernetes.default".to_string(),
        "kubernetes.default.svc".to_string(),
        "kubernetes.default.svc.cluster.local".to_string(),
    ])
    .map_err(pki_error)?;
    serving
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let serving_cert = serving
        .signed_by(&serving_key, &ca_cert, &ca_key)
        .map_err(pki_error)?;

    let admin_key = KeyPair::generate().map_err(pki_error)?;
    let mut admin = CertificateParams::new(Vec::<String>::new()).map_err(pki_error)?;
    admin.distinguished_name.push(DnType::CommonName, "admin");
    admin
        .distinguished_name
        .push(DnType::OrganizationName, "system:masters");
    admin.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let admin_cert = admin
        .signed_by(&admin_key, &ca_cert, &ca_key)
        .map_err(pki_error)?;

    let sa = KeyPair::generate().map_err(pki_error)?;
    Ok(Pki {
        ca_cert: write(dir, "ca.crt", &ca_cert.pem())?,
        serving_cert: write(dir, "apiserver.crt", &serving_cert.pem())?,
        serving_key: write(dir, "apiserver.key", &serving_key.serialize_pem())?,
        sa_key: write(dir, "sa.key", &sa.serialize_pem())?,
        sa_pub: write(dir, "sa.pub", &sa.public_key_pem())?,
        admin_cert_pem: admin_cert.pem(),
        admin_key_pem: admin_key.serialize_pem(),
        ca_cert_pem: ca_cert.pem(),
    })
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A kubeconfig for `server` authenticating with `user` (YAML lines under `users[].user`).
fn kubeconfig(server: &str, ca_pem: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test\nusers:\n- name: test\n  user:\n{user}",
        b64(ca_pem)
    )
}

/// The admin kubeconfig (client certificate).
pub fn admin_kubeconfig(pki: &Pki, server: &str) -> String {
    kubeconfig(
        server,
        &pki.ca_cert_pem,
        &format!(
            "    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(&pki.admin_cert_pem),
            b64(&pki.admin_key_pem)
        ),
    )
}

/// A kubeconfig that authenticates with a bearer token (a service account's, say).
pub fn token_kubeconfig(ca_pem: &str, server: &str, token: &str) -> String {
    kubeconfig(server, ca_pem, &format!("    token: {token}\n"))
}
