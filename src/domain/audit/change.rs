//! What an event changed (ändring): an RFC 6902 JSON patch from the value before to the value after,
//! computed by [`diff`] and applied by [`apply`]. Applying `diff(before, after)` to `before` gives
//! `after` exactly (including `null` members, which an RFC 7396 merge patch cannot express).
//!
//! The patch uses `add`, `remove` and `replace` only. Objects are compared member by member (in
//! sorted key order, so the patch is deterministic); arrays keep their common prefix and suffix and
//! change the middle element by element, then remove or add what is left, so an append is one `add`.
//! A missing value (`None`: nothing before, e.g. at creation) is the root being absent: its patch is
//! one `add` at the root path `""`.
use serde_json::{Map, Value};

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

fn op(name: &str, path: &str, value: Option<&Value>) -> Value {
    let mut m = Map::new();
    m.insert("op".into(), Value::String(name.into()));
    m.insert("path".into(), Value::String(path.into()));
    if let Some(v) = value {
        m.insert("value".into(), v.clone());
    }
    Value::Object(m)
}

/// The patch that turns `before` into `after`, as a JSON array of operations.
pub fn diff(before: Option<&Value>, after: Option<&Value>) -> Value {
    let mut ops = Vec::new();
    match (before, after) {
        (None, None) => {}
        (None, Some(a)) => ops.push(op("add", "", Some(a))),
        (Some(_), None) => ops.push(op("remove", "", None)),
        (Some(b), Some(a)) => diff_values(b, a, "", &mut ops),
    }
    Value::Array(ops)
}

fn diff_values(b: &Value, a: &Value, path: &str, ops: &mut Vec<Value>) {
    if b == a {
        return;
    }
    match (b, a) {
        (Value::Object(bo), Value::Object(ao)) => {
            let mut keys: Vec<&String> = bo.keys().chain(ao.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = format!("{path}/{}", escape(k));
                match (bo.get(k), ao.get(k)) {
                    (Some(_), None) => ops.push(op("remove", &p, None)),
                    (None, Some(av)) => ops.push(op("add", &p, Some(av))),
                    (Some(bv), Some(av)) => diff_values(bv, av, &p, ops),
                    (None, None) => {}
                }
            }
        }
        (Value::Array(ba), Value::Array(aa)) => {
            let prefix = ba.iter().zip(aa).take_while(|(x, y)| x == y).count();
            let max_suffix = ba.len().min(aa.len()) - prefix;
            let suffix = ba
                .iter()
                .rev()
                .zip(aa.iter().rev())
                .take(max_suffix)
                .take_while(|(x, y)| x == y)
                .count();
            let bm = &ba[prefix..ba.len() - suffix];
            let am = &aa[prefix..aa.len() - suffix];
            let common = bm.len().min(am.len());
            for i in 0..common {
                diff_values(&bm[i], &am[i], &format!("{path}/{}", prefix + i), ops);
            }
            // Removing at one index repeatedly takes the surplus elements one after another.
            for _ in common..bm.len() {
                ops.push(op("remove", &format!("{path}/{}", prefix + common), None));
            }
            for (i, v) in am.iter().enumerate().skip(common) {
                ops.push(op("add", &format!("{path}/{}", prefix + i), Some(v)));
            }
        }
        _ => ops.push(op("replace", path, Some(a))),
    }
}

/// Why a patch does not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation {index} of the change does not apply: {reason}")]
pub struct PatchError {
    pub index: usize,
    pub reason: String,
}

fn tokens(path: &str) -> Result<Vec<String>, String> {
    if path.is_empty() {
        return Ok(vec![]);
    }
    let rest = path
        .strip_prefix('/')
        .ok_or_else(|| format!("path '{path}' does not start with '/'"))?;
    Ok(rest.split('/').map(unescape).collect())
}

fn index(token: &str, len: usize, allow_end: bool) -> Result<usize, String> {
    if allow_end && token == "-" {
        return Ok(len);
    }
    let valid = !token.is_empty()
        && token.bytes().all(|c| c.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    let i: usize = if valid {
        token.parse().map_err(|_| format!("index '{token}'"))?
    } else {
        return Err(format!("'{token}' is not an array index"));
    };
    let limit = if allow_end {
        len
    } else {
        len.saturating_sub(1)
    };
    if i > limit || (!allow_end && len == 0) {
        return Err(format!("index {i} is out of bounds"));
    }
    Ok(i)
}

fn parent<'a>(doc: &'a mut Value, toks: &[String]) -> Result<&'a mut Value, String> {
    let mut cur = doc;
    for t in toks {
        cur = match cur {
            Value::Object(m) => m.get_mut(t).ok_or_else(|| format!("no member '{t}'"))?,
            Value::Array(a) => {
                let i = index(t, a.len(), false)?;
                &mut a[i]
            }
            _ => return Err(format!("'{t}' is inside a value that has no members")),
        };
    }
    Ok(cur)
}

fn apply_one(doc: &mut Option<Value>, o: &Value) -> Result<(), String> {
    let name = o.get("op").and_then(Value::as_str).ok_or("no 'op'")?;
    let path = o.get("path").and_then(Value::as_str).ok_or("no 'path'")?;
    let value = o.get("value");
    let toks = tokens(path)?;
    let Some((last, up)) = toks.split_last() else {
        // The root itself.
        match name {
            "add" | "replace" => {
                if name == "replace" && doc.is_none() {
                    return Err("replace of a missing root".into());
                }
                *doc = Some(value.ok_or("no 'value'")?.clone());
            }
            "remove" => *doc = doc.take().map(|_| None).ok_or("remove of a missing root")?,
            "test" => {
                if doc.as_ref() != value {
                    return Err("test failed at the root".into());
                }
            }
            other => return Err(format!("unsupported operation '{other}'")),
        }
        return Ok(());
    };
    let root = doc.as_mut().ok_or("the document is missing")?;
    let target = parent(root, up)?;
    match (name, target) {
        ("add", Value::Object(m)) => {
            m.insert(last.clone(), value.ok_or("no 'value'")?.clone());
        }
        ("add", Value::Array(a)) => {
            let i = index(last, a.len(), true)?;
            a.insert(i, value.ok_or("no 'value'")?.clone());
        }
        ("replace", Value::Object(m)) => {
            let slot = m
                .get_mut(last)
                .ok_or_else(|| format!("no member '{last}'"))?;
            *slot = value.ok_or("no 'value'")?.clone();
        }
        ("replace", Value::Array(a)) => {
            let i = index(last, a.len(), false)?;
            a[i] = value.ok_or("no 'value'")?.clone();
        }
        ("remove", Value::Object(m)) => {
            m.remove(last)
                .ok_or_else(|| format!("no member '{last}'"))?;
        }
        ("remove", Value::Array(a)) => {
            let i = index(last, a.len(), false)?;
            a.remove(i);
        }
        ("test", t) => {
            let found = match t {
                Value::Object(m) => m.get(last),
                Value::Array(a) => index(last, a.len(), false).ok().and_then(|i| a.get(i)),
                _ => None,
            };
            if found != value {
                return Err(format!("test failed at '{path}'"));
            }
        }
        (name @ ("add" | "replace" | "remove"), _) => {
            return Err(format!("{name} at '{path}': the parent has no members"))
        }
        (other, _) => return Err(format!("unsupported operation '{other}'")),
    }
    Ok(())
}

/// Applies a patch to a document (`None`: no document yet).
pub fn apply(doc: Option<&Value>, patch: &Value) -> Result<Option<Value>, PatchError> {
    let ops = patch.as_array().ok_or_else(|| PatchError {
        index: 0,
        reason: "a change is an array of operations".into(),
    })?;
    let mut out = doc.cloned();
    for (i, o) in ops.iter().enumerate() {
        apply_one(&mut out, o).map_err(|reason| PatchError { index: i, reason })?;
    }
    Ok(out)
}

/// Passes every operation through `redact`, a rule written for whole documents: each operation's
/// value is placed at its path in an otherwise empty document, redacted, and read back. An operation
/// whose value the rule removes (or whose place it removes) is left out; a root operation's value is
/// redacted as it is.
pub fn redact(patch: &Value, redact: impl Fn(Value) -> Value) -> Value {
    let Some(ops) = patch.as_array() else {
        return patch.clone();
    };
    let kept = ops
        .iter()
        .filter_map(|o| {
            let path = o.get("path").and_then(Value::as_str)?;
            let toks = tokens(path).ok()?;
            let value = o.get("value").cloned().unwrap_or(Value::Null);
            if toks.is_empty() {
                let mut o = o.clone();
                if let Some(m) = o.as_object_mut() {
                    if m.contains_key("value") {
                        m.insert("value".into(), redact(value));
                    }
                }
                return Some(o);
            }
            // Wrap: an index becomes a one-element array, a name a one-member object.
            let mut wrapped = value;
            for t in toks.iter().rev() {
                wrapped = if index(t, usize::MAX, false).is_ok() {
                    Value::Array(vec![wrapped])
                } else {
                    let mut m = Map::new();
                    m.insert(t.clone(), wrapped);
                    Value::Object(m)
                };
            }
            let mut cur = redact(wrapped);
            for t in &toks {
                cur = match cur {
                    Value::Array(mut a) if index(t, usize::MAX, false).is_ok() && a.len() == 1 => {
                        a.pop()?
                    }
                    Value::Object(mut m) => m.remove(t)?,
                    _ => return None,
                };
            }
            let mut o = o.clone();
            if let Some(m) = o.as_object_mut() {
                if m.contains_key("value") {
                    m.insert("value".into(), cur);
                }
            }
            Some(o)
        })
        .collect();
    Value::Array(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn roundtrip(b: Option<Value>, a: Option<Value>) {
        let p = diff(b.as_ref(), a.as_ref());
        assert_eq!(apply(b.as_ref(), &p).unwrap(), a, "patch {p}");
    }

    #[test]
    fn a_changed_member_is_one_replace() {
        let p = diff(
            Some(&json!({"title": "a", "step": "x"})),
            Some(&json!({"title": "b", "step": "x"})),
        );
        assert_eq!(
            p,
            json!([{"op": "replace", "path": "/title", "value": "b"}])
        );
    }

    #[test]
    fn an_appended_element_is_one_add() {
        let p = diff(
            Some(&json!({"notes": [1, 2]})),
            Some(&json!({"notes": [1, 2, 3]})),
        );
        assert_eq!(p, json!([{"op": "add", "path": "/notes/2", "value": 3}]));
    }

    #[test]
    fn an_element_removed_in_the_middle_is_one_remove() {
        let p = diff(Some(&json!(["a", "b", "c"])), Some(&json!(["a", "c"])));
        assert_eq!(p, json!([{"op": "remove", "path": "/1"}]));
    }

    #[test]
    fn null_members_survive_the_round_trip() {
        roundtrip(Some(json!({"a": 1})), Some(json!({"a": null, "b": null})));
        roundtrip(Some(json!({"a": null})), Some(json!({})));
    }

    #[test]
    fn creation_is_an_add_at_the_root_and_names_are_escaped() {
        assert_eq!(
            diff(None, Some(&json!({"x": 1}))),
            json!([{"op": "add", "path": "", "value": {"x": 1}}])
        );
        let p = diff(Some(&json!({"a/b~c": 1})), Some(&json!({"a/b~c": 2})));
        assert_eq!(p[0]["path"], "/a~1b~0c");
        roundtrip(Some(json!({"a/b~c": 1})), Some(json!({"a/b~c": 2})));
        roundtrip(Some(json!(1)), None);
        assert_eq!(diff(None, None), json!([]));
    }

    #[test]
    fn a_patch_that_does_not_fit_is_refused() {
        let e = apply(
            Some(&json!({"a": 1})),
            &json!([{"op": "replace", "path": "/b", "value": 2}]),
        )
        .unwrap_err();
        assert_eq!(e.index, 0);
        assert!(apply(Some(&json!([1])), &json!([{"op": "remove", "path": "/01"}])).is_err());
        assert!(apply(Some(&json!({})), &json!({"op": "add"})).is_err());
    }

    #[test]
    fn redaction_drops_what_the_rule_removes_and_keeps_the_rest() {
        // The rule: notes of organisation "b" are not shown; nor is any recommendation.
        let rule = |mut v: Value| {
            if let Some(Value::Array(n)) = v.get_mut("notes") {
                n.retain(|x| x.get("org") != Some(&json!("b")));
            }
            if let Some(Value::Array(r)) = v.get_mut("reviews") {
                for x in r.iter_mut().filter_map(Value::as_object_mut) {
                    x.remove("recommendation");
                }
            }
            v
        };
        let p = json!([
            {"op": "add", "path": "/notes/0", "value": {"org": "a", "text": "ok"}},
            {"op": "add", "path": "/notes/1", "value": {"org": "b", "text": "secret"}},
            {"op": "replace", "path": "/reviews/0/recommendation", "value": "refuse"},
            {"op": "add", "path": "/reviews/1", "value": {"status": "open", "recommendation": "x"}},
            {"op": "replace", "path": "/title", "value": "t"},
            {"op": "add", "path": "", "value": {"notes": [{"org": "b"}], "title": "t"}}
        ]);
        assert_eq!(
            redact(&p, rule),
            json!([
                {"op": "add", "path": "/notes/0", "value": {"org": "a", "text": "ok"}},
                {"op": "add", "path": "/reviews/1", "value": {"status": "open"}},
                {"op": "replace", "path": "/title", "value": "t"},
                {"op": "add", "path": "", "value": {"notes": [], "title": "t"}}
            ])
        );
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (-5i64..5).prop_map(|n| json!(n)),
            "[a-c/~]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 40, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::btree_map("[a-d/~]{1,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Applying the change to the before value yields the after value, for any pair.
        #[test]
        fn applying_the_diff_to_before_gives_after(
            b in proptest::option::of(json_value()),
            a in proptest::option::of(json_value()),
        ) {
            let p = diff(b.as_ref(), a.as_ref());
            prop_assert_eq!(apply(b.as_ref(), &p).unwrap(), a);
        }

        /// A value compared with itself changes nothing.
        #[test]
        fn a_value_against_itself_is_an_empty_change(v in json_value()) {
            prop_assert_eq!(diff(Some(&v), Some(&v)), json!([]));
        }
    }
}
