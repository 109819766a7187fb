//! What every provider's callbacks about one call carry in their address.

use crate::answer::CallRef;

/// The announcement's address for one forwarded call (`path` is the announcement's or its key's):
/// the original call's id and the caller ride along in the query, which the signature covers. A
/// caller without a number travels as empty.
pub fn announcement_url(path: &str, call: &CallRef) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("call", &call.call_id)
        .append_pair("from", call.caller.as_ref().map_or("", |number| number.as_str()))
        .finish();
    format!("{path}?{query}")
}
