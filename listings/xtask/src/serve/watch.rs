//! Watching the files the book is built from, with inotify: no polling,
//! so at rest the server uses no CPU.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Result, bail};

use crate::project::Project;

/// The folders whose files the book is built from, watched with inotify.
pub(super) struct Watcher {
    fd: i32,
    folders: HashMap<i32, PathBuf>,
    project: Project,
}

impl Watcher {
    pub(super) fn new(project: &Project) -> Result<Watcher> {
        // SAFETY: inotify_init1 takes flags only; a negative result is an error.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if fd < 0 {
            bail!("inotify_init1 failed: {}", std::io::Error::last_os_error());
        }
        let mut watcher = Watcher { fd, folders: HashMap::new(), project: project.clone() };
        watcher.watch_all()?;
        Ok(watcher)
    }

    /// Watches every folder the book reads (again: new folders join).
    fn watch_all(&mut self) -> Result<()> {
        let root = &self.project.root;
        let workspace = self.project.workspace();
        let mut folders = vec![root.clone()];
        for top in [root.join("src"), root.join("quizzes"), root.join("theme")] {
            folders.extend(tree(&top));
        }
        for package in std::fs::read_dir(&workspace)? {
            let package = package?.path();
            let name = package.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name == "target" || name.starts_with('.') || !package.is_dir() {
                continue;
            }
            folders.extend(tree(&package));
        }
        for folder in folders {
            let path = CString::new(folder.as_os_str().as_bytes())?;
            let events =
                libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO | libc::IN_DELETE | libc::IN_CREATE;
            // SAFETY: `path` is a valid C string for the length of the call.
            let wd = unsafe { libc::inotify_add_watch(self.fd, path.as_ptr(), events) };
            if wd >= 0 {
                self.folders.insert(wd, folder);
            }
        }
        Ok(())
    }

    /// Blocks until a file the book reads changes, then lets a burst of
    /// changes (an editor's save, a measurement) settle; names one of them.
    pub(super) fn wait(&mut self) -> Result<String> {
        loop {
            let changed = self.read(None)?;
            let Some(first) = changed.into_iter().find(|path| self.matters(path)) else {
                continue;
            };
            while !self.read(Some(Duration::from_millis(300)))?.is_empty() {}
            self.watch_all()?;
            return Ok(self.project.relative(&first));
        }
    }

    /// The book reads this file: not the build's output, not an editor's
    /// swap file, and at the top only `book.toml`.
    fn matters(&self, path: &Path) -> bool {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let at_top = path.parent() == Some(self.project.root.as_path());
        !(name.starts_with('.') || name.ends_with('~') || name.ends_with(".swp"))
            && (!at_top || name == "book.toml")
    }

    /// The paths of the next events; with a timeout, none if none came.
    fn read(&mut self, timeout: Option<Duration>) -> Result<Vec<PathBuf>> {
        if let Some(timeout) = timeout {
            let mut poll = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
            let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
            // SAFETY: one valid pollfd, for the length of the call.
            if unsafe { libc::poll(&mut poll, 1, ms) } <= 0 {
                return Ok(Vec::new());
            }
        }
        let mut buffer = [0u8; 16 * 1024];
        // SAFETY: reads at most the buffer's length into it.
        let read = unsafe { libc::read(self.fd, buffer.as_mut_ptr().cast(), buffer.len()) };
        if read < 0 {
            bail!("reading inotify events failed: {}", std::io::Error::last_os_error());
        }
        let (mut paths, mut at) = (Vec::new(), 0);
        let header = std::mem::size_of::<libc::inotify_event>();
        while at + header <= read as usize {
            // SAFETY: the kernel wrote a whole event at `at`; read_unaligned
            // copes with its alignment in a byte buffer.
            let event: libc::inotify_event =
                unsafe { std::ptr::read_unaligned(buffer.as_ptr().add(at).cast()) };
            let name = &buffer[at + header..at + header + event.len as usize];
            let name = name.split(|&b| b == 0).next().unwrap_or_default();
            if let Some(folder) = self.folders.get(&event.wd) {
                paths.push(folder.join(std::ffi::OsStr::from_bytes(name)));
            }
            at += header + event.len as usize;
        }
        Ok(paths)
    }
}

/// A folder and every folder under it.
fn tree(top: &Path) -> Vec<PathBuf> {
    let mut folders = Vec::new();
    let mut stack = vec![top.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else { continue };
        folders.push(folder);
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    folders
}
