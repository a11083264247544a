//! Fault injection and request recording: the two things controller tests need
//! beyond a working API — making requests fail on purpose, and seeing what a
//! controller (or which replica of it) asked for.

use serde_json::Value;

/// An error to answer instead of serving matching requests, `times` times.
///
/// Build one with [`Fault::new`] and narrow it with the builder methods:
/// `Fault::new(409, "Conflict").method("PATCH").path_contains("/status").times(2)`.
/// Faults are checked in the order they were added; the first match with
/// attempts left answers the request. Note that kube's default client retries
/// 429, 503 and 504 answers by itself, so an injected 503 is usually invisible to
/// the calling code unless `times` exceeds kube's retry budget (see the crate docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Only requests with this HTTP method (case-insensitive), if set.
    pub method: Option<String>,
    /// Only requests whose path contains this string, if set.
    pub path_contains: Option<String>,
    /// Only requests whose query string contains this string (e.g. `"watch=true"`), if set.
    pub query_contains: Option<String>,
    /// Only requests made as this user (see `FakeApiServer::client_as`), if set.
    pub user: Option<String>,
    /// HTTP status code and `Status.code` of the answer.
    pub code: u16,
    /// `Status.reason` of the answer, e.g. "Conflict", "InternalError".
    pub reason: String,
    /// How many matching requests fail before the fault is used up.
    pub times: usize,
}

impl Fault {
    /// A fault answering `code`/`reason` to the next matching request (any method, any path).
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            method: None,
            path_contains: None,
            query_contains: None,
            user: None,
            code,
            reason: reason.into(),
            times: 1,
        }
    }

    /// Restricts the fault to one HTTP method ("GET", "PATCH", ...).
    #[must_use]
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Restricts the fault to paths containing `s` (e.g. "/tinynodes/", "/status").
    #[must_use]
    pub fn path_contains(mut self, s: impl Into<String>) -> Self {
        self.path_contains = Some(s.into());
        self
    }

    /// Restricts the fault to query strings containing `s` (e.g. "watch=true").
    #[must_use]
    pub fn query_contains(mut self, s: impl Into<String>) -> Self {
        self.query_contains = Some(s.into());
        self
    }

    /// Restricts the fault to requests recorded as `user`.
    #[must_use]
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// How many matching requests fail (default 1).
    #[must_use]
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    pub(crate) fn matches(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        query: &str,
    ) -> bool {
        self.times > 0
            && self
                .method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method))
            && self
                .path_contains
                .as_deref()
                .is_none_or(|p| path.contains(p))
            && self
                .query_contains
                .as_deref()
                .is_none_or(|q| query.contains(q))
            && self.user.as_deref().is_none_or(|u| Some(u) == user)
    }
}

/// Takes one attempt from the first fault matching the request, if any, and returns
/// the code and reason to answer with. Used-up faults are removed.
pub(crate) fn take_fault(
    faults: &mut Vec<Fault>,
    user: Option<&str>,
    method: &str,
    path: &str,
    query: &str,
) -> Option<(u16, String)> {
    let idx = faults
        .iter()
        .position(|f| f.matches(user, method, path, query))?;
    let fault = &mut faults[idx];
    fault.times -= 1;
    let answer = (fault.code, fault.reason.clone());
    if fault.times == 0 {
        faults.remove(idx);
    }
    Some(answer)
}

/// One request as the fake saw and answered it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// Who made it: the bearer token of the request (see `FakeApiServer::client_as`), if any.
    pub user: Option<String>,
    /// HTTP method, upper case.
    pub method: String,
    /// URL path, e.g. `/apis/operator.tinysystems.io/v1alpha1/namespaces/ns/tinynodes/a/status`.
    pub path: String,
    /// The raw query string without `?` (empty if none). kube-rs builds its query
    /// strings so that they start with `&`, e.g. `&watch=true&timeoutSeconds=290&...`;
    /// use [`RecordedRequest::param`] to read one parameter.
    pub query: String,
    /// The `Content-Type` header, if any (tells merge, JSON, and apply patches apart).
    pub content_type: Option<String>,
    /// The body, if it was JSON.
    pub body: Option<Value>,
    /// The HTTP status answered (200 for a watch that was started).
    pub status: u16,
}

impl RecordedRequest {
    /// Whether this was a watch (`watch=true` or `watch=1`).
    pub fn is_watch(&self) -> bool {
        matches!(self.param("watch").as_deref(), Some("true" | "1"))
    }

    /// The (percent-decoded) value of query parameter `name`, if present; the last one wins.
    pub fn param(&self, name: &str) -> Option<String> {
        let uri: axum::http::Uri = format!("/?{}", self.query).parse().ok()?;
        let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri).ok()?;
        pairs
            .0
            .into_iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up_in_order() {
        let mut faults = vec![
            Fault::new(409, "Conflict")
                .method("patch")
                .path_contains("/status")
                .times(2),
            Fault::new(500, "InternalError"),
        ];
        assert_eq!(
            take_fault(&mut faults, None, "GET", "/api/v1/x", ""),
            Some((500, "InternalError".to_string()))
        );
        assert_eq!(take_fault(&mut faults, None, "GET", "/api/v1/x", ""), None);
        for _ in 0..2 {
            assert_eq!(
                take_fault(&mut faults, None, "PATCH", "/a/status", "").map(|f| f.0),
                Some(409)
            );
        }
        assert!(faults.is_empty());
    }

    #[test]
    fn recorded_query_params() {
        let req = RecordedRequest {
            user: None,
            method: "GET".into(),
            path: "/api/v1/configmaps".into(),
            query: "&watch=true&labelSelector=app%3Dx&resourceVersion=7".into(),
            content_type: None,
            body: None,
            status: 200,
        };
        assert!(req.is_watch());
        assert_eq!(req.param("labelSelector").as_deref(), Some("app=x"));
        assert_eq!(req.param("resourceVersion").as_deref(), Some("7"));
        assert_eq!(req.param("limit"), None);
    }

    #[test]
    fn user_and_query_filters() {
        let f = Fault::new(500, "InternalError")
            .user("a")
            .query_contains("watch=true");
        assert!(f.matches(Some("a"), "GET", "/p", "watch=true&x=1"));
        assert!(!f.matches(Some("b"), "GET", "/p", "watch=true"));
        assert!(!f.matches(Some("a"), "GET", "/p", "limit=500"));
    }
}
