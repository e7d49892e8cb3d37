//! What the dashboard's tests share: serving a store on a real port, and reading it as a
//! browser would, link by link.

// Each test binary compiles this module; not every one uses all of it.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::Arc;

/// The dashboard of `store`, served on 127.0.0.1 (a free port) by a runtime of its own;
/// returns its base URL. It serves until the test process ends.
pub fn serve(store: ccci_store::Store) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let dashboard = ccci_web::Dashboard::new(Arc::new(store));
            ccci_web::serve(listener, dashboard, std::future::pending())
                .await
                .unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    format!("http://{addr}")
}

/// One page or file the crawl fetched.
pub struct Fetched {
    pub url: String,
    pub status: u16,
    pub kind: String,
    pub body: Vec<u8>,
}

/// Every page and file reachable from `/` by the links (`href`) and pictures (`src`) of the
/// dashboard's pages, each fetched once. External links are not followed (the dashboard has
/// none).
pub fn crawl(base: &str) -> Vec<Fetched> {
    let client = getter();
    let mut seen = BTreeSet::new();
    let mut todo = vec!["/".to_string()];
    let mut out = Vec::new();
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) {
            continue;
        }
        let url = format!("{base}{path}");
        let (status, kind, body) = client(&url);
        if kind.starts_with("text/html") {
            let text = String::from_utf8_lossy(&body);
            for link in links(&text) {
                assert!(
                    link.starts_with('/'),
                    "{url} links outside the dashboard or relatively: {link}"
                );
                todo.push(link.replace("&amp;", "&"));
            }
        }
        out.push(Fetched {
            url,
            status,
            kind,
            body,
        });
    }
    out
}

/// The `href` and `src` values of an HTML page.
pub fn links(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// A function that GETs a URL and answers (status, content type, body): reqwest's async
/// client on a runtime of its own (no blocking HTTP client is in the tree).
pub fn getter() -> impl Fn(&str) -> (u16, String, Vec<u8>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    move |url: &str| {
        rt.block_on(async {
            let r = client.get(url).send().await.unwrap();
            let status = r.status().as_u16();
            let kind = r
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("").to_string())
                .unwrap_or_default();
            (status, kind, r.bytes().await.unwrap().to_vec())
        })
    }
}

/// Takes a screenshot of `url` with headless Chromium into `out` (1280×900).
pub fn screenshot(url: &str, out: &std::path::Path) {
    ccci::screenshot::capture(url, out, (1280, 900), None)
        .unwrap_or_else(|e| panic!("a screenshot of {url}: {e}"));
}

/// The first start tag of `html` that gives one attribute twice, as written (browsers keep
/// the first and drop the rest without a word, so a class given twice loses its colour).
pub fn attribute_given_twice(html: &str) -> Option<String> {
    let bytes = html.as_bytes();
    let mut i = 0;
    while let Some(open) = html[i..].find('<').map(|o| i + o) {
        i = open + 1;
        if !bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        // The tag runs to the first `>` outside quotes.
        let (mut quote, mut end) = (None, None);
        for (k, c) in html[i..].char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = Some(i + k);
                    break;
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        let tag = &html[open..=end];
        let mut names = Vec::new();
        let (mut quote, mut word) = (None, String::new());
        // Attribute names: words outside quotes that an `=` follows or that stand alone,
        // after the element's name.
        for c in html[i..end].chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') => quote = Some(c),
                (None, c) if c.is_whitespace() || c == '=' || c == '/' => {
                    if !word.is_empty() {
                        names.push(std::mem::take(&mut word).to_ascii_lowercase());
                    }
                }
                (None, c) => word.push(c),
            }
        }
        if !word.is_empty() {
            names.push(word.to_ascii_lowercase());
        }
        let attributes = &names[1.min(names.len())..];
        for (k, a) in attributes.iter().enumerate() {
            if attributes[..k].contains(a) {
                return Some(tag.to_string());
            }
        }
        i = end + 1;
    }
    None
}
