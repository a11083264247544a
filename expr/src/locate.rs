//! Where a node of the message sits: its parent container and its key.
//!
//! ajson's nodes carry parent pointers, which its `parent()`, `root()` and
//! `key()` functions read. Here a matched node is a plain `&Value` borrowed
//! from the message, which keeps path evaluation free of bookkeeping; the
//! parent is found only when one of those functions asks, by searching the
//! message for the node's address. That search is linear in the size of the
//! message, and it is the only cost these functions add.

use std::ptr;

use serde_json::Value;

/// The container holding a node, and the node's key when that container is
/// an object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place<'a> {
    /// The array or object that holds the node.
    pub parent: &'a Value,
    /// The member name, for nodes held by an object.
    pub key: Option<&'a str>,
}

/// Finds `node` inside `doc` (by address, so equal values elsewhere in the
/// message do not match). `None` for `doc` itself and for values that are
/// not part of `doc`.
pub(crate) fn locate<'a>(doc: &'a Value, node: &Value) -> Option<Place<'a>> {
    // Depth-first over the containers, without recursion: messages may be
    // nested deeper than the stack allows.
    let mut pending = vec![doc];
    while let Some(container) = pending.pop() {
        match container {
            Value::Array(items) => {
                for item in items {
                    if ptr::eq(item, node) {
                        return Some(Place {
                            parent: container,
                            key: None,
                        });
                    }
                    if is_container(item) {
                        pending.push(item);
                    }
                }
            }
            Value::Object(members) => {
                for (key, item) in members {
                    if ptr::eq(item, node) {
                        return Some(Place {
                            parent: container,
                            key: Some(key),
                        });
                    }
                    if is_container(item) {
                        pending.push(item);
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// True for arrays and objects.
fn is_container(v: &Value) -> bool {
    matches!(v, Value::Array(_) | Value::Object(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_parents_and_keys_by_address() {
        let doc = json!({"a": {"b": [1, {"c": 1}]}, "d": 1});
        let b = &doc["a"]["b"];
        let c = &doc["a"]["b"][1]["c"];
        let place = locate(&doc, c).unwrap();
        assert!(ptr::eq(place.parent, &doc["a"]["b"][1]));
        assert_eq!(place.key, Some("c"));
        let place = locate(&doc, &b[0]).unwrap();
        assert!(ptr::eq(place.parent, b));
        assert_eq!(place.key, None);
        // Same value, different place.
        assert_eq!(locate(&doc, &doc["d"]).unwrap().key, Some("d"));
        assert!(locate(&doc, &doc).is_none());
        assert!(locate(&doc, &json!(1)).is_none());
    }
}
