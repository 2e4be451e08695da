//! One page of the browser, driven: loaded, evaluated in, clicked, and its
//! errors collected.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use super::cdp::Cdp;
use super::chromium::Browser;

/// How long a page may take to load.
const LOAD: Duration = Duration::from_secs(20);

/// One page target of the browser, attached over the browser's WebSocket.
pub(super) struct Tab {
    cdp: Cdp,
    session: String,
}

impl Tab {
    pub(super) fn open(browser: &Browser) -> Result<Tab> {
        let mut cdp = Cdp::connect(&browser.devtools)?;
        let target = cdp.call(None, "Target.createTarget", json!({"url": "about:blank"}))?;
        let target = target["targetId"]
            .as_str()
            .context("Target.createTarget gave no targetId")?
            .to_string();
        let attached =
            cdp.call(None, "Target.attachToTarget", json!({"targetId": target, "flatten": true}))?;
        let session = attached["sessionId"]
            .as_str()
            .context("Target.attachToTarget gave no sessionId")?
            .to_string();
        let mut tab = Tab { cdp, session };
        for domain in ["Page", "Runtime", "Log"] {
            tab.call(&format!("{domain}.enable"), json!({}))?;
        }
        Ok(tab)
    }

    pub(super) fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.cdp.call(Some(&self.session), method, params)
    }

    /// Loads `url` and waits for its load event.
    pub(super) fn navigate(&mut self, url: &str) -> Result<()> {
        self.cdp.events.clear();
        let navigated = self.call("Page.navigate", json!({"url": url}))?;
        if let Some(error) = navigated["errorText"].as_str() {
            bail!("cannot load {url}: {error}");
        }
        if self.cdp.event(&self.session, "Page.loadEventFired", LOAD)?.is_none() {
            bail!("{url} did not finish loading within {} s", LOAD.as_secs());
        }
        Ok(())
    }

    /// The value of a JavaScript expression (a promise is awaited).
    pub(super) fn eval(&mut self, expression: &str) -> Result<Value> {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        )?;
        if let Some(details) = result.get("exceptionDetails") {
            bail!("the check's script failed: {}", exception_text(details));
        }
        Ok(result["result"]["value"].clone())
    }

    /// Polls `expression` until it is truthy, for at most `timeout`; its last value.
    pub(super) fn eval_until(&mut self, expression: &str, timeout: Duration) -> Result<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let value = self.eval(expression)?;
            let truthy = !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0);
            if truthy || Instant::now() > deadline {
                return Ok(value);
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Clicks, with the mouse, the middle of the element `element` (a
    /// JavaScript expression), scrolled into view; fails if something else
    /// is on top of it there.
    pub(super) fn click(&mut self, element: &str) -> Result<std::result::Result<(), String>> {
        let point = self.eval(&format!(
            "(() => {{ const el = {element}; if (!el) return 'missing';
                el.scrollIntoView({{block: 'center', inline: 'center'}});
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) return 'not displayed';
                const x = r.left + r.width / 2, y = r.top + r.height / 2;
                const hit = document.elementFromPoint(x, y);
                if (!hit || !(hit === el || el.contains(hit) || hit.contains(el))) return 'covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
                return [x, y]; }})()"
        ))?;
        let (Some(x), Some(y)) = (point[0].as_f64(), point[1].as_f64()) else {
            return Ok(Err(point.as_str().unwrap_or("cannot be clicked").to_string()));
        };
        for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1}),
            )?;
        }
        Ok(Ok(()))
    }

    /// The console errors, uncaught exceptions and failed loads reported
    /// since the last navigation, but the failed fetches of `reported`
    /// (broken links, already named).
    pub(super) fn errors(&mut self, reported: &[String]) -> Result<Vec<String>> {
        // A round trip, so that whatever the page did before it has arrived.
        self.eval("0")?;
        let session = self.session.clone();
        let mut errors = Vec::new();
        for event in self.cdp.events.drain(..) {
            if event["sessionId"] != session.as_str() {
                continue;
            }
            let params = &event["params"];
            match event["method"].as_str() {
                Some("Runtime.exceptionThrown") => errors.push(format!(
                    "uncaught exception: {}",
                    exception_text(&params["exceptionDetails"])
                )),
                Some("Runtime.consoleAPICalled")
                    if matches!(params["type"].as_str(), Some("error" | "assert")) =>
                {
                    let args: Vec<String> = params["args"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|a| match &a["value"] {
                            Value::String(s) => s.clone(),
                            Value::Null => a["description"].as_str().unwrap_or("?").to_string(),
                            v => v.to_string(),
                        })
                        .collect();
                    errors.push(format!("console.error: {}", args.join(" ")));
                }
                Some("Log.entryAdded") if params["entry"]["level"] == "error" => {
                    let entry = &params["entry"];
                    let url = entry["url"].as_str().unwrap_or("");
                    if entry["source"] == "network" && reported.iter().any(|r| r == url) {
                        continue;
                    }
                    errors.push(format!(
                        "browser error: {}{}",
                        entry["text"].as_str().unwrap_or("?"),
                        if url.is_empty() { String::new() } else { format!(" ({url})") }
                    ));
                }
                _ => {}
            }
        }
        Ok(errors)
    }
}

/// An exception's message and where it was thrown.
fn exception_text(details: &Value) -> String {
    let message =
        details["exception"]["description"].as_str().or(details["text"].as_str()).unwrap_or("?");
    let message = message.lines().next().unwrap_or(message);
    match details["url"].as_str() {
        Some(url) if !url.is_empty() => {
            format!("{message} ({url}:{})", details["lineNumber"].as_u64().unwrap_or(0) + 1)
        }
        _ => message.to_string(),
    }
}
