//! Chromium: started headless with a fresh profile, and killed.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// How long Chromium may take to start and open its DevTools port.
const LAUNCH: Duration = Duration::from_secs(30);

/// A headless Chromium in its own process group with a fresh profile; killed,
/// helpers included, when dropped.
pub(super) struct Browser {
    child: Child,
    pub(super) devtools: String,
    stderr: Arc<Mutex<String>>,
    // Dropped after `drop` has killed Chromium, so nothing writes to it.
    _profile: tempfile::TempDir,
    /// Chromium's group, listed for the handler that ends it on Ctrl-C.
    _watched: crate::run::Watched,
}

impl Browser {
    pub(super) fn launch() -> Result<Browser> {
        let program = std::env::var_os("CHROMIUM")
            .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
        if !program.is_file() {
            bail!(
                "no Chromium at {}: install it (apt-get install chromium) or set CHROMIUM to its path",
                program.display()
            );
        }
        let profile = tempfile::Builder::new()
            .prefix("workbook-chromium-")
            .tempdir()
            .context("cannot make a profile folder for Chromium")?;
        let mut child = Command::new(&program)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--mute-audio",
                "--window-size=1280,900",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", program.display()))?;
        // Read stderr to its end so Chromium never blocks on it; keep its
        // tail for error messages, and watch it for the DevTools address.
        let stderr = Arc::new(Mutex::new(String::new()));
        let (found, listening) = mpsc::channel();
        if let Some(pipe) = child.stderr.take() {
            let tail = Arc::clone(&stderr);
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(url) = line.strip_prefix("DevTools listening on ") {
                        let _ = found.send(url.trim().to_string());
                    }
                    let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
                    tail.push_str(&line);
                    tail.push('\n');
                    if tail.len() > 8000 {
                        let cut = tail.len() - 4000;
                        let cut =
                            (cut..tail.len()).find(|&i| tail.is_char_boundary(i)).unwrap_or(0);
                        tail.drain(..cut);
                    }
                }
            });
        }
        let _watched = crate::run::watch_group(child.id() as libc::pid_t);
        let mut browser =
            Browser { child, devtools: String::new(), stderr, _profile: profile, _watched };
        // From here on, dropping `browser` kills Chromium.
        let port_file = browser._profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + LAUNCH;
        browser.devtools = loop {
            if let Ok(url) = listening.try_recv() {
                break url;
            }
            if let Ok(text) = std::fs::read_to_string(&port_file)
                && let [port, path, ..] = text.lines().collect::<Vec<_>>()[..]
            {
                break format!("ws://127.0.0.1:{}{}", port.trim(), path.trim());
            }
            if let Ok(Some(status)) = browser.child.try_wait() {
                bail!(
                    "Chromium ({}) exited ({status}) before opening its DevTools port:\n{}",
                    program.display(),
                    browser.stderr_tail()
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "Chromium did not open its DevTools port within {} s:\n{}",
                    LAUNCH.as_secs(),
                    browser.stderr_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Ok(browser)
    }

    fn stderr_tail(&self) -> String {
        self.stderr.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = self.child.id() as libc::pid_t;
        // SAFETY: kill(2) takes plain integers; `group` is the group this
        // child leads (`process_group(0)`), not yet reaped, so it is ours.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
