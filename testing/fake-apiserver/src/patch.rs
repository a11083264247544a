//! PATCH bodies by content type.
//!
//! Merge and strategic-merge patches are both applied as RFC 7386 merge patches
//! (so lists are replaced, never merged by key); server-side apply is treated the
//! same way (no field ownership). JSON patches follow RFC 6902 with the one quirk
//! of the real server that kube-runtime's finalizer helper relies on: a `test`
//! for `null` succeeds when the path does not exist, because Go omits empty fields.

use json_patch::PatchOperation;
use serde_json::Value;

/// The kinds of PATCH the fake understands, from the request's `Content-Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PatchKind {
    /// `application/merge-patch+json`
    Merge,
    /// `application/strategic-merge-patch+json` (applied as a merge patch)
    Strategic,
    /// `application/json-patch+json`
    Json,
    /// `application/apply-patch+yaml` (server-side apply; JSON bodies only, applied as a merge patch)
    Apply,
}

impl PatchKind {
    /// Maps a `Content-Type` header (parameters ignored) to a patch kind.
    pub(crate) fn from_content_type(content_type: &str) -> Option<Self> {
        let mime = content_type.split(';').next().unwrap_or("").trim();
        match mime.to_ascii_lowercase().as_str() {
            "application/merge-patch+json" => Some(Self::Merge),
            "application/strategic-merge-patch+json" => Some(Self::Strategic),
            "application/json-patch+json" => Some(Self::Json),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Some(Self::Apply),
            _ => None,
        }
    }
}

/// Why a patch could not be applied; the caller turns it into 400 or 422.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PatchFailure {
    /// The body is not a patch of the declared kind (400).
    Malformed(String),
    /// The patch is well-formed but does not apply, e.g. a failed `test` (422).
    Failed(String),
}

/// Applies `patch` to a copy of `current` and returns the result.
pub(crate) fn apply(
    kind: PatchKind,
    current: &Value,
    patch: &Value,
) -> Result<Value, PatchFailure> {
    match kind {
        PatchKind::Merge | PatchKind::Strategic | PatchKind::Apply => {
            if !patch.is_object() {
                return Err(PatchFailure::Malformed(
                    "a merge patch must be a JSON object".to_string(),
                ));
            }
            let mut doc = current.clone();
            json_patch::merge(&mut doc, patch);
            Ok(doc)
        }
        PatchKind::Json => {
            let ops: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| PatchFailure::Malformed(format!("invalid JSON patch: {e}")))?;
            apply_json_patch(current, &ops.0)
        }
    }
}

fn apply_json_patch(current: &Value, ops: &[PatchOperation]) -> Result<Value, PatchFailure> {
    let mut doc = current.clone();
    for op in ops {
        if let PatchOperation::Test(test) = op
            && test.value.is_null()
            && matches!(doc.pointer(test.path.as_str()), None | Some(Value::Null))
        {
            continue;
        }
        json_patch::patch(&mut doc, std::slice::from_ref(op))
            .map_err(|e| PatchFailure::Failed(e.to_string()))?;
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types() {
        assert_eq!(
            PatchKind::from_content_type("application/merge-patch+json; charset=utf-8"),
            Some(PatchKind::Merge)
        );
        assert_eq!(PatchKind::from_content_type("application/json"), None);
    }

    #[test]
    fn merge_removes_nulls() {
        let out = apply(
            PatchKind::Merge,
            &json!({"a": 1, "b": {"c": 2}}),
            &json!({"a": null, "b": {"d": 3}}),
        )
        .unwrap();
        assert_eq!(out, json!({"b": {"c": 2, "d": 3}}));
    }

    #[test]
    fn json_patch_test_null_on_missing_path_passes() {
        let cur = json!({"metadata": {"name": "x"}});
        let patch = json!([
            {"op": "test", "path": "/metadata/finalizers", "value": null},
            {"op": "add", "path": "/metadata/finalizers", "value": ["f"]}
        ]);
        let out = apply(PatchKind::Json, &cur, &patch).unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["f"]));
        // A second identical patch fails: the path now exists.
        assert!(matches!(
            apply(PatchKind::Json, &out, &patch),
            Err(PatchFailure::Failed(_))
        ));
    }

    #[test]
    fn json_patch_failure_leaves_nothing_half_applied() {
        let cur = json!({"a": 1});
        let patch = json!([
            {"op": "replace", "path": "/a", "value": 2},
            {"op": "test", "path": "/a", "value": 3}
        ]);
        assert!(matches!(
            apply(PatchKind::Json, &cur, &patch),
            Err(PatchFailure::Failed(_))
        ));
        assert!(matches!(
            apply(PatchKind::Json, &cur, &json!({"op": "x"})),
            Err(PatchFailure::Malformed(_))
        ));
    }
}
