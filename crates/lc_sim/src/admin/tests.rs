use super::*;
use serde_json::json;

#[test]
fn values_become_python_literals() {
    let v = json!([1, null, "a'b\\\n\u{e9}", jmap(vec![("k", json!(["x"]))])]);
    assert_eq!(
        python_literal(&v),
        "_L([1, None, 'a\\'b\\\\\\x0a\\xc3\\xa9', _M([('k', _L(['x']))])])"
    );
}
