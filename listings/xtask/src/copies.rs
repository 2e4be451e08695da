//! Copies to keep (`cargo xtask copies DIR`): the whole book as one PDF, the
//! site as a zip to read offline, and the student pack as a zip, each named
//! with the book's edition (`git describe`), which every page's footer and
//! the pack's README also carry, so a class knows which edition it has.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::project::Project;

/// Builds the book from the committed outputs, which must be fresh (a copy
/// to keep measures nothing), then writes the three copies into `out`.
pub fn copies(project: &Project, out: &Path) -> Result<()> {
    if out.exists() && out.read_dir()?.next().is_some() {
        bail!("{} exists and is not empty; name a new folder", out.display());
    }
    let stale = crate::measure::stale(project, &project.listings()?)?;
    if !stale.is_empty() {
        let names: Vec<String> = stale.iter().map(|l| l.id()).collect();
        bail!("stale outputs: {}; run `cargo xtask measure` first", names.join(", "));
    }
    let started = std::time::Instant::now();
    crate::book::render(project, None, crate::preprocess::Workbook::new(project.clone()))?;
    eprintln!("copies: the book built in {:.1} s", started.elapsed().as_secs_f64());
    std::fs::create_dir_all(out)?;
    let name = format!("how-programs-wait-{}", project.version());
    let site = project.root.join("book");

    let pdf = out.join(format!("{name}.pdf"));
    let printed = crate::browser::pdf::print(&site, &pdf)?;
    eprintln!(
        "copies: {} ({} pages, {:.1} MB; {} chapters, {} figures, {} outputs) in {:.1} s",
        project.relative(&pdf),
        printed.pages,
        printed.bytes as f64 / 1e6,
        printed.chapters,
        printed.figures,
        printed.outputs,
        printed.seconds
    );
    let zip = out.join(format!("{name}-site.zip"));
    let files = zip_folder(&site, &zip, &name)?;
    eprintln!("copies: {} ({files} files; open {name}/index.html)", project.relative(&zip));

    let scratch = tempfile::tempdir()?;
    let pack_name = format!("{name}-exercises");
    crate::exercises::pack(project, &scratch.path().join(&pack_name), false)?;
    let zip = out.join(format!("{pack_name}.zip"));
    let files = zip_folder(&scratch.path().join(&pack_name), &zip, &pack_name)?;
    eprintln!("copies: {} ({files} files)", project.relative(&zip));
    Ok(())
}

/// Writes every file under `dir` into a new zip at `path`, under the folder
/// `top`; returns how many files. The zip is written here, deflated with
/// `flate2`, rather than by the `zip` crate: that crate's dependencies would
/// change the locked versions the listings build with, and so make every
/// measured output stale. Its timestamps are fixed (1980-01-01), so the same
/// book makes the same zip.
pub fn zip_folder(dir: &Path, path: &Path, top: &str) -> Result<usize> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    if files.len() > usize::from(u16::MAX) {
        bail!("{} files are too many for a zip without ZIP64", files.len());
    }
    let mut zip = Vec::new();
    let mut central = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
        let name = format!("{top}/{relative}");
        let data = std::fs::read(file)?;
        let mut deflater =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        deflater.write_all(&data)?;
        let deflated = deflater.finish()?;
        let crc = crc32fast::hash(&data);
        let offset = u32::try_from(zip.len()).context("a zip over 4 GiB needs ZIP64")?;
        let (packed, size) = (u32::try_from(deflated.len())?, u32::try_from(data.len())?);
        // The fields both headers share: version 2.0, UTF-8 names, deflate,
        // 1980-01-01 00:00, CRC-32, sizes, name length, no extra field.
        let mut common = Vec::new();
        for (value, bytes) in [(20, 2), (0x0800, 2), (8, 2), (0, 2), (0x21, 2)] {
            common.extend_from_slice(&u32::to_le_bytes(value)[..bytes]);
        }
        for value in [crc, packed, size] {
            common.extend_from_slice(&value.to_le_bytes());
        }
        common.extend_from_slice(&u16::try_from(name.len())?.to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&common);
        zip.extend_from_slice(name.as_bytes());
        zip.extend_from_slice(&deflated);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&0x031Eu16.to_le_bytes()); // made on Unix, zip 3.0
        central.extend_from_slice(&common);
        // No comment, disk 0, no internal attributes, -rw-r--r--, where.
        central.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        central.extend_from_slice(&(0o100_644u32 << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let (start, count) = (u32::try_from(zip.len())?, u16::try_from(files.len())?);
    zip.extend_from_slice(&central);
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    zip.extend_from_slice(&[0, 0, 0, 0]); // this disk, the directory's disk
    zip.extend_from_slice(&count.to_le_bytes());
    zip.extend_from_slice(&count.to_le_bytes());
    zip.extend_from_slice(&u32::try_from(central.len())?.to_le_bytes());
    zip.extend_from_slice(&start.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes()); // no comment
    std::fs::write(path, zip).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(files.len())
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            walk(&entry.path(), files)?;
        } else {
            files.push(entry.path());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_folder_zips_under_its_top_folder_and_another_zip_reader_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("css")).unwrap();
        let page = "<h1>Book</h1>".repeat(100);
        std::fs::write(site.join("index.html"), &page).unwrap();
        std::fs::write(site.join("css/a.css"), "body {}").unwrap();
        let path = dir.path().join("book.zip");
        assert_eq!(super::zip_folder(&site, &path, "book-v1").unwrap(), 2);
        // Python's zipfile, which checks every CRC (testzip) as it reads.
        let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n\
                      print(sorted(z.namelist()), len(z.read('book-v1/index.html')), z.read('book-v1/css/a.css').decode())";
        let read = std::process::Command::new("python3").args(["-c", script]).arg(&path).output();
        let read = read.expect("python3, which the tests' preflight requires");
        assert!(read.status.success(), "{}", String::from_utf8_lossy(&read.stderr));
        assert_eq!(
            String::from_utf8_lossy(&read.stdout).trim(),
            "['book-v1/css/a.css', 'book-v1/index.html'] 1300 body {}"
        );
    }
}
