//! A real browser for a recipe's functional tests, where a person would use one: Debian's
//! headless Chromium, driven over the DevTools protocol on a pipe.
//!
//! Why the DevTools protocol on a pipe (`--remote-debugging-pipe`) and not WebDriver
//! (Debian's chromium-driver): no second program to install and keep at Chromium's exact
//! version, no port on the host that any other process could drive while a test runs, and
//! the protocol has what a test needs beyond WebDriver (text typed as a person types it,
//! the page's picture as it is), spoken with nothing but serde_json.
//!
//! Chromium starts on the first call and is killed with its process group when the
//! [`Browser`] is dropped (at the end of the step). It reaches only the app: every host name
//! but the app's domain fails to resolve, as for [`crate::screenshot`].
//!
//! [`Browser::picture_for_report`] is the report's picture of a page the recipe chose (a
//! signed-in page, say): every secret the run knows (the app's generated secrets, its
//! dependencies' credentials, and what the test adds with [`Browser::never_show`]) is masked
//! on the page before the picture is taken and put back after, and a picture on which one is
//! still found is not kept.

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, oneshot, OnceCell};

/// How long Chromium may take to answer one command (it starts in about a second here).
pub const COMMAND_BUDGET: Duration = Duration::from_secs(30);

/// How long a page may take to load after [`Browser::goto`].
pub const LOAD_BUDGET: Duration = Duration::from_secs(60);

/// How often [`Browser::wait_for`] asks the page again.
const POLL: Duration = Duration::from_millis(250);

/// Secrets shorter than this are not masked: they would mask ordinary words.
pub const SHORTEST_SECRET: usize = 4;

/// The viewport, as a laptop shows a page.
const VIEWPORT: (u32, u32) = (1280, 800);

/// What Chromium failed at: the command or wait, and why.
type Result<T> = std::result::Result<T, String>;

/// What a test gets from the browser.
type Outcome<T = ()> = crate::outcome::Result<T>;

/// Where the report's picture goes, shared by the steps of one run.
#[derive(Clone, Debug)]
pub(crate) struct ReportPicture {
    /// The run's `screenshot.png`.
    pub path: PathBuf,
    /// Set when a recipe's test took the picture; the run's end records it instead of the
    /// front page.
    pub taken: Arc<Mutex<Option<PathBuf>>>,
    /// `false` when the settings turn pictures off (`CCCI_SCREENSHOT=no`).
    pub wanted: bool,
}

/// A browser fixture: take `&Browser` in a `#[ccci::functional]` test.
///
/// ```no_run
/// # async fn f(browser: &ccci::Browser) -> ccci::Result {
/// browser.goto("/login").await?;
/// browser.fill("input[name=user]", "admin").await?;
/// browser.click("button[type=submit]").await?;
/// browser.wait_for("the dashboard", "document.querySelector('.dashboard') !== null", std::time::Duration::from_secs(30)).await?;
/// browser.picture_for_report().await?;
/// # Ok(()) }
/// ```
pub struct Browser {
    base_url: String,
    /// The app's domain and the address that serves it (Traefik's), for the resolver.
    resolve: Option<(String, String)>,
    secrets: Mutex<Vec<String>>,
    report: Option<ReportPicture>,
    session: OnceCell<Session>,
}

impl Browser {
    /// A browser for the app at `base_url`; Chromium is started by the first call.
    pub(crate) fn new(
        base_url: &str,
        resolve: Option<(String, String)>,
        secrets: Vec<String>,
        report: Option<ReportPicture>,
    ) -> Browser {
        Browser {
            base_url: base_url.trim_end_matches('/').to_string(),
            resolve,
            secrets: Mutex::new(secrets),
            report,
            session: OnceCell::new(),
        }
    }

    /// A browser for pages on this host alone (`file://`, `data:`), for tests of the browser
    /// itself; `report` is where [`Browser::picture_for_report`] writes.
    pub fn local(report: PathBuf) -> Browser {
        Browser::new(
            "about:blank",
            None,
            Vec::new(),
            Some(ReportPicture {
                path: report,
                taken: Arc::default(),
                wanted: true,
            }),
        )
    }

    /// Adds `secret` to what the report's picture must never show (a password the test chose).
    pub fn never_show(&self, secret: &str) {
        if secret.len() >= SHORTEST_SECRET {
            crate::shared::lock(&self.secrets).push(secret.to_string());
        }
    }

    async fn session(&self) -> Result<&Session> {
        self.session
            .get_or_try_init(|| Session::start(self.resolve.clone()))
            .await
    }

    /// `path` on the app (`/ghost/`), or an absolute URL as it is.
    pub fn url(&self, path: &str) -> String {
        if path.contains("://") || path.starts_with("data:") || path.starts_with("about:") {
            path.to_string()
        } else {
            format!("{}/{}", self.base_url, path.trim_start_matches('/'))
        }
    }

    /// Opens `path` (see [`Browser::url`]) and waits for the page to load. A change of the
    /// fragment alone (`/ghost/#/posts`) loads nothing: follow it with [`Browser::wait_for`].
    pub async fn goto(&self, path: &str) -> Outcome<()> {
        let url = self.url(path);
        let s = self.session().await?;
        let mut events = s.events.subscribe();
        let r = s.call("Page.navigate", json!({ "url": url })).await?;
        if let Some(e) = r["errorText"].as_str().filter(|e| !e.is_empty()) {
            return Err(format!("the browser could not open {url}: {e}").into());
        }
        if r["loaderId"].as_str().is_none() {
            return Ok(());
        }
        let until = Instant::now() + LOAD_BUDGET;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, events.recv()).await {
                Ok(Ok(e)) if e == "Page.loadEventFired" => return Ok(()),
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    return Err(format!("the browser closed while {url} loaded").into())
                }
                Err(_) => {
                    return Err(format!(
                        "{url} did not finish loading within {}s",
                        LOAD_BUDGET.as_secs()
                    )
                    .into())
                }
            }
        }
    }

    /// The value of the JavaScript expression `js` on the page (a promise is awaited).
    pub async fn eval(&self, js: &str) -> Outcome<Value> {
        let s = self.session().await?;
        let r = s
            .call(
                "Runtime.evaluate",
                json!({ "expression": js, "returnByValue": true, "awaitPromise": true }),
            )
            .await?;
        if let Some(e) = r.get("exceptionDetails") {
            let text = e["exception"]["description"]
                .as_str()
                .or(e["text"].as_str())
                .unwrap_or("an exception");
            return Err(format!("`{js}` threw on the page: {text}").into());
        }
        Ok(r["result"]["value"].clone())
    }

    /// Waits up to `within` for `js` to be truthy on the page, and returns its value; the
    /// error names `what` was waited for, where the page was and what `js` last gave.
    pub async fn wait_for(&self, what: &str, js: &str, within: Duration) -> Outcome<Value> {
        let until = Instant::now() + within;
        loop {
            let last = self.eval(js).await;
            match &last {
                Ok(v) if truthy(v) => return Ok(v.clone()),
                _ if Instant::now() >= until => {
                    let at = self
                        .eval("location.href")
                        .await
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| "an unknown page".into());
                    let last = match last {
                        Ok(v) => format!("it gave {v}"),
                        Err(e) => e.to_string(),
                    };
                    return Err(format!(
                        "waited {}s for {what} on {at} (`{js}`): {last}",
                        within.as_secs()
                    )
                    .into());
                }
                _ => tokio::time::sleep(POLL).await,
            }
        }
    }

    /// Types `text` into the element `selector` names, as a person would (its content
    /// selected first, so it is replaced).
    pub async fn fill(&self, selector: &str, text: &str) -> Outcome<()> {
        let sel = json!(selector);
        let found = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return false; e.focus(); if (e.select) e.select(); return true; }})()"
            ))
            .await?;
        if found != Value::Bool(true) {
            return Err(format!("no `{selector}` on the page to type into").into());
        }
        self.session()
            .await?
            .call("Input.insertText", json!({ "text": text }))
            .await?;
        Ok(())
    }

    /// Clicks the middle of the element `selector` names with the mouse, as a person would.
    pub async fn click(&self, selector: &str) -> Outcome<()> {
        let sel = json!(selector);
        let at = self
            .eval(&format!(
                "(() => {{ const e = document.querySelector({sel}); if (!e) return null; e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
            ))
            .await?;
        let (Some(x), Some(y)) = (at[0].as_f64(), at[1].as_f64()) else {
            return Err(format!("no `{selector}` on the page to click").into());
        };
        let s = self.session().await?;
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            s.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            )
            .await?;
        }
        Ok(())
    }

    /// The page's visible text.
    pub async fn text(&self) -> Outcome<String> {
        Ok(self
            .eval("document.body ? document.body.innerText : ''")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// A PNG of the page as it is now (no secret masked: for the test's own eyes).
    pub async fn png(&self) -> Outcome<Vec<u8>> {
        use base64::Engine as _;
        let r = self
            .session()
            .await?
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await?;
        let data = r["data"].as_str().ok_or("Chromium sent no picture")?;
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|e| format!("Chromium's picture is not base64: {e}").into())
    }

    /// Takes the report's picture of the page as it is now, every secret the run knows
    /// masked, and returns where it is: `None` when the run takes no pictures
    /// (`CCCI_SCREENSHOT=no`). Refused (nothing kept) when a secret is still found on the
    /// page after masking; the error says how many, never what they are.
    pub async fn picture_for_report(&self) -> Outcome<Option<PathBuf>> {
        let Some(report) = self.report.as_ref().filter(|r| r.wanted) else {
            return Ok(None);
        };
        let secrets = crate::shared::lock(&self.secrets).clone();
        let list = json!(secrets);
        self.eval(&format!("({MASK})({list})")).await?;
        let picture = async {
            self.still_shown(&list, "masked").await?;
            let png = self.png().await?;
            self.still_shown(&list, "taken").await?;
            Ok::<_, crate::outcome::Error>(png)
        }
        .await;
        let restored = self.eval(UNMASK).await;
        let png = picture?;
        restored?;
        std::fs::write(&report.path, png)
            .map_err(|e| format!("cannot write {}: {e}", report.path.display()))?;
        *crate::shared::lock(&report.taken) = Some(report.path.clone());
        Ok(Some(report.path.clone()))
    }

    /// An error when any of `list`'s secrets is on the page (its text, attributes, form
    /// values, open shadow roots) `when` the picture was about to be or had been taken.
    async fn still_shown(&self, list: &Value, when: &str) -> Outcome {
        let found = self.eval(&format!("({FIND})({list})")).await?;
        match found.as_u64() {
            Some(0) => Ok(()),
            Some(n) => Err(format!(
                "{n} secret(s) still on the page after the picture was {when}: no picture kept; choose a page that shows none"
            ).into()),
            None => Err(format!("the page's secret check gave {found}").into()),
        }
    }
}

/// Whether a JavaScript value counts as true.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Masks each of the given secrets in the page's text, attributes and form values (open
/// shadow roots included), keeping what it changed in `window.__ccciUnmask`.
const MASK: &str = r#"(secrets) => {
  const undo = [];
  const scrub = (t) => {
    for (const s of secrets) if (t.includes(s)) t = t.split(s).join('\u2022'.repeat(8));
    return t;
  };
  const walk = (root) => {
    const w = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let n = w.currentNode; n; n = w.nextNode()) {
      if (n.nodeType === Node.TEXT_NODE) {
        const t = scrub(n.nodeValue);
        if (t !== n.nodeValue) { undo.push(['text', n, null, n.nodeValue]); n.nodeValue = t; }
        continue;
      }
      if (!n.attributes) continue;
      for (const a of Array.from(n.attributes)) {
        const t = scrub(a.value);
        if (t !== a.value) { undo.push(['attr', n, a.name, a.value]); n.setAttribute(a.name, t); }
      }
      if (typeof n.value === 'string') {
        const t = scrub(n.value);
        if (t !== n.value) { undo.push(['value', n, null, n.value]); n.value = t; }
      }
      if (n.shadowRoot) walk(n.shadowRoot);
    }
  };
  walk(document.documentElement);
  window.__ccciUnmask = undo;
  return undo.length;
}"#;

/// Puts back what [`MASK`] changed.
const UNMASK: &str = r#"(() => {
  for (const [kind, n, name, was] of (window.__ccciUnmask || []).reverse()) {
    if (kind === 'text') n.nodeValue = was;
    else if (kind === 'attr') n.setAttribute(name, was);
    else n.value = was;
  }
  delete window.__ccciUnmask;
  return true;
})()"#;

/// How many of the given secrets are on the page: its markup, form values and open shadow
/// roots.
const FIND: &str = r#"(secrets) => {
  const seen = [document.documentElement.outerHTML];
  const walk = (root) => {
    for (const e of root.querySelectorAll('*')) {
      if (typeof e.value === 'string') seen.push(e.value);
      if (e.shadowRoot) { seen.push(e.shadowRoot.innerHTML); walk(e.shadowRoot); }
    }
  };
  walk(document);
  const all = seen.join('\n');
  return secrets.filter((s) => all.includes(s)).length;
}"#;

/// A running Chromium and the page it shows.
struct Session {
    _chromium: ccci_process::Held,
    _profile: tempfile::TempDir,
    to_browser: Mutex<std::fs::File>,
    answers: Answers,
    events: broadcast::Sender<String>,
    next: std::sync::atomic::AtomicU64,
    page: String,
    log: PathBuf,
}

type Answers = Arc<Mutex<Answering>>;

/// Commands sent and not yet answered, by id; `closed` once the pipe ended.
#[derive(Default)]
struct Answering {
    waiting: HashMap<u64, oneshot::Sender<Result<Value>>>,
    closed: bool,
}

impl Session {
    async fn start(resolve: Option<(String, String)>) -> Result<Session> {
        let chromium = crate::screenshot::chromium()?;
        let profile = tempfile::tempdir().map_err(|e| format!("no scratch directory: {e}"))?;
        let log = profile.path().join("chromium.log");
        let stderr = std::fs::File::create(&log)
            .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
        let (commands_in, commands_out) =
            ccci_process::pipe().map_err(|e| format!("no pipe for Chromium: {e}"))?;
        let (answers_in, answers_out) =
            ccci_process::pipe().map_err(|e| format!("no pipe for Chromium: {e}"))?;
        let rules = crate::screenshot::resolver_rules(
            resolve.as_ref().map(|(d, ip)| (d.as_str(), ip.as_str())),
        );
        let mut cmd = ccci_process::command(&chromium);
        cmd.args(crate::screenshot::FLAGS)
            .arg("--remote-debugging-pipe")
            .arg(format!("--host-resolver-rules={rules}"))
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--window-size={},{}", VIEWPORT.0, VIEWPORT.1))
            // No window of its own: Debian's opens its home page, whose load would cut the
            // test's first one short, and its command handler then takes the tab's renderer
            // with it. The test's page is made below.
            .arg("--no-startup-window")
            .stdout(std::process::Stdio::null())
            .stderr(stderr);
        crate::screenshot::sandboxed(&mut cmd, profile.path())?;
        let chromium = ccci_process::hold(
            cmd,
            format!("{} --remote-debugging-pipe", chromium.display()),
            vec![(commands_in.into(), 3), (answers_out.into(), 4)],
            "",
        )
        .map_err(|e| e.to_string())?;
        let answers: Answers = Arc::default();
        let (events, _) = broadcast::channel(256);
        read_answers(answers_in, answers.clone(), events.clone());
        let mut s = Session {
            _chromium: chromium,
            _profile: profile,
            to_browser: Mutex::new(commands_out),
            answers,
            events,
            next: 1.into(),
            page: String::new(),
            log,
        };
        let target = s
            .send("Target.createTarget", json!({ "url": "about:blank" }), None)
            .await?;
        let target = target["targetId"].as_str().ok_or("Chromium made no page")?;
        let attached = s
            .send(
                "Target.attachToTarget",
                json!({ "targetId": target, "flatten": true }),
                None,
            )
            .await?;
        s.page = attached["sessionId"]
            .as_str()
            .ok_or("Chromium gave no session for its page")?
            .to_string();
        s.call("Page.enable", json!({})).await?;
        // In front: headless Chromium paints no picture of a tab in the background.
        s.call("Page.bringToFront", json!({})).await?;
        Ok(s)
    }

    /// Sends `method` to the page and waits for its answer.
    async fn call(&self, method: &str, params: Value) -> Result<Value> {
        self.send(method, params, Some(&self.page)).await
    }

    async fn send(&self, method: &str, params: Value, session: Option<&str>) -> Result<Value> {
        let id = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let (tx, rx) = oneshot::channel();
        {
            let mut a = crate::shared::lock(&self.answers);
            if a.closed {
                return Err(self.gone(method));
            }
            a.waiting.insert(id, tx);
        }
        let mut bytes = serde_json::to_vec(&msg).map_err(|e| e.to_string())?;
        bytes.push(0);
        crate::shared::lock(&self.to_browser)
            .write_all(&bytes)
            .map_err(|_| self.gone(method))?;
        match tokio::time::timeout(COMMAND_BUDGET, rx).await {
            Ok(Ok(answer)) => answer.map_err(|e| format!("Chromium refused {method}: {e}")),
            Ok(Err(_)) => Err(self.gone(method)),
            Err(_) => {
                crate::shared::lock(&self.answers).waiting.remove(&id);
                Err(format!(
                    "Chromium did not answer {method} within {}s",
                    COMMAND_BUDGET.as_secs()
                ))
            }
        }
    }

    /// Chromium stopped answering: what it last said on stderr.
    fn gone(&self, method: &str) -> String {
        let said = std::fs::read_to_string(&self.log).unwrap_or_default();
        let last = said
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("nothing");
        format!("Chromium ended before it answered {method} (it last said: {last})")
    }
}

/// Reads Chromium's messages (JSON, each ended by a NUL) on a thread of its own: answers go
/// to the command waiting for them, events to every subscriber.
fn read_answers(pipe: std::fs::File, answers: Answers, events: broadcast::Sender<String>) {
    std::thread::spawn(move || {
        let mut pipe = BufReader::new(pipe);
        let mut buf = Vec::new();
        while pipe.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
            if buf.last() == Some(&0) {
                buf.pop();
            }
            if let Ok(msg) = serde_json::from_slice::<Value>(&buf) {
                if let Some(id) = msg["id"].as_u64() {
                    let answer = match msg.get("error") {
                        Some(e) => Err(e["message"].as_str().unwrap_or("an error").to_string()),
                        None => Ok(msg["result"].clone()),
                    };
                    if let Some(tx) = crate::shared::lock(&answers).waiting.remove(&id) {
                        let _ = tx.send(answer);
                    }
                } else if let Some(m) = msg["method"].as_str() {
                    let _ = events.send(m.to_string());
                }
            }
            buf.clear();
        }
        let mut a = crate::shared::lock(&answers);
        a.closed = true;
        a.waiting.clear();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_truth() {
        assert!(!truthy(&Value::Null));
        assert!(!truthy(&json!("")));
        assert!(!truthy(&json!(0)));
        assert!(truthy(&json!("x")));
        assert!(truthy(&json!([])));
    }
}
