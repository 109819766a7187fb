//! The page a request was sent from, so that an answer can lead back to it: Resume and Undo
//! return there, and an error page links to it.

use axum::extract::Request;
use axum::http::{HeaderMap, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

tokio::task_local! {
    /// The page the request being answered came from; set for every signed-in page.
    static CAME_FROM: String;
}

/// Keeps the page the request came from while it is answered, for `came_from`.
pub async fn remember(request: Request, next: Next) -> Response {
    let page = same_site_path(request.headers(), "/calls");
    CAME_FROM.scope(page, next.run(request)).await
}

/// The page the request being answered came from; the calls when it is not known.
pub fn came_from() -> String {
    CAME_FROM.try_with(Clone::clone).unwrap_or_else(|_| "/calls".to_owned())
}

/// The page a form was sent from, as its path and query; the host is dropped, so the redirect
/// never leaves saidno. (A path starting `//` or `/\` would be read as another host.)
pub fn same_site_path(headers: &HeaderMap, otherwise: &str) -> String {
    let referer = headers.get(header::REFERER).and_then(|value| value.to_str().ok());
    let page = referer.and_then(|referer| referer.parse::<Uri>().ok());
    let path = page.as_ref().and_then(Uri::path_and_query).map(|path| path.as_str().to_owned());
    local_path(path.as_deref(), otherwise)
}

/// `path` when it is a path on this site, else `otherwise`: a form's "back" field is only ever
/// followed within saidno. (A path starting `//` or `/\` would be read as another host.)
pub fn local_path(path: Option<&str>, otherwise: &str) -> String {
    path.filter(|path| path.starts_with('/') && !path[1..].starts_with(['/', '\\']))
        .map_or_else(|| otherwise.to_owned(), str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(referer: &str) -> String {
        let mut headers = HeaderMap::new();
        headers.insert(header::REFERER, referer.parse().unwrap());
        same_site_path(&headers, "/")
    }

    #[test]
    fn the_way_back_keeps_the_page_and_its_filters_but_never_another_host() {
        assert_eq!(
            from("https://calls.example.com/calls?decision=decline&before=abc"),
            "/calls?decision=decline&before=abc"
        );
        assert_eq!(from("http://127.0.0.1:8080/companies/everest%20windows"), "/companies/everest%20windows");
        assert_eq!(from("https://evil.example//evil.example/x"), "/");
        assert_eq!(from("https://calls.example.com/\\evil.example"), "/");
        assert_eq!(from("not a url"), "/");
        assert_eq!(same_site_path(&HeaderMap::new(), "/allows"), "/allows");
        assert_eq!(local_path(Some("//evil.example"), "/calls"), "/calls");
        assert_eq!(local_path(Some("/companies/x"), "/calls"), "/companies/x");
    }
}
