//! End-to-end benchmark: a 1 000-CV job from upload to ranked results on the embedded default
//! (SQLite and local files), against a real `petal serve` child process.
//!
//! Before the clock starts: the CVs are generated in memory (mostly `corpus::pdf_cv` PDFs,
//! with DOCX, ODT, RTF and TXT files of generated UK legal/tech CVs), `petal serve` is started
//! with a fresh temporary data directory and otherwise default settings, `petal org create`
//! makes an organisation, and its Admin accepts the invite, signs in and enrols TOTP; a job
//! with seven criteria is created. On the clock: the CVs are uploaded in multipart batches
//! (`POST /api/v1/jobs/{id}/documents`, a few requests in parallel), the job is polled until
//! it is `completed` (or `failed`), and the ranked results are fetched and checked. The
//! server's memory (`VmRSS` sampled every 100 ms, and `VmHWM` read before it is stopped) and
//! CPU time per thread group (from `/proc`) are reported beside the times. Linux only.
//!
//! Run through `scripts/bench-e2e.sh`, which builds the release `petal` binary first. Options:
//! `--petal PATH` (the binary; required), `--cvs N` (1000), `--batch N` files per request
//! (50), `--parallel N` requests at once (2), `--photo-kb K` to give every PDF a photo of
//! about K KB (0: none, the generated PDFs as they are), `--keep` to keep the data directory,
//! `--export` to then export the organisation (`POST /api/v1/org/export` until ready, then the
//! download) and, as the reference in the same run, `zip -r` the same files and encrypt the ZIP
//! with `openssl enc -aes-256-ctr`.

// A benchmark program, not part of the server: it may unwrap and panic on a broken setup.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use futures_util::StreamExt;
use petal_documents::corpus::{self, Rng, uk_cv_lines};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple 42!";
const ADMIN: &str = "admin@bench.test";

// ---------------------------------------------------------------------------------------------
// The corpus

/// One file to upload.
struct CvFile {
    name: String,
    format: &'static str,
    bytes: Vec<u8>,
}

/// CV number `i`: out of every 20, 13 `pdf_cv` PDFs (four layouts, one in three with a white
/// prompt-injection line), 2 PDFs of the UK CV lines, 2 DOCX, 1 ODT, 1 RTF, 1 TXT. With
/// `photo_kb` above 0, every PDF is instead [`photo_pdf`]: the same lines in one column with
/// a JPEG-sized photo of about `photo_kb` KB (±50 %), as most real CV PDFs weigh 50–300 KB.
fn cv_file(i: u64, photo_kb: usize) -> CvFile {
    let (format, bytes) = match i % 20 {
        0..13 if photo_kb > 0 => ("pdf", photo_pdf(&corpus::pdf_cv(i).lines, photo_kb, i)),
        0..13 => ("pdf", corpus::pdf_cv(i).pdf),
        slot => {
            let lines = uk_cv_lines(i);
            let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
            match slot {
                13 | 14 if photo_kb > 0 => ("pdf", photo_pdf(&lines, photo_kb, i)),
                13 | 14 => {
                    let pages: Vec<&[&str]> = refs.chunks(46).collect();
                    ("pdf", corpus::pdf_pages(&pages))
                }
                15 | 16 => ("docx", corpus::docx(&refs)),
                17 => ("odt", corpus::odt(&refs)),
                18 => ("rtf", corpus::rtf(&refs)),
                _ => ("txt", lines.join("\n").into_bytes()),
            }
        }
    };
    CvFile { name: format!("cv-{i:04}.{format}"), format, bytes }
}

/// A PDF literal string.
fn pdf_literal(text: &str) -> String {
    let mut out = String::from("(");
    for c in text.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// A PDF written by hand (classic cross-reference table): `lines` in Helvetica, 50 to a page,
/// and on the first page a photo, an image XObject of about `photo_kb` KB in `/DCTDecode`
/// (bytes shaped like a JPEG: never decoded by a text reader, only carried, stored and
/// parsed past), drawn top right above the text.
fn photo_pdf(lines: &[String], photo_kb: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0x5eed);
    let photo_len =
        photo_kb * 1000 / 2 + usize::try_from(rng.below(photo_kb as u64 * 1000)).unwrap();
    let mut photo = vec![0xFF, 0xD8, 0xFF, 0xE0];
    while photo.len() < photo_len {
        photo.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    photo.extend_from_slice(&[0xFF, 0xD9]);

    let pages: Vec<&[String]> = lines.chunks(50).collect();
    // Objects: 1 catalog, 2 page tree, 3 font, 4 photo, then a page and its content per page.
    let mut objects: Vec<Vec<u8>> = Vec::new();
    let kids: Vec<String> = (0..pages.len()).map(|p| format!("{} 0 R", 5 + 2 * p)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} /MediaBox [0 0 595 842] >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width 600 /Height 800 /ColorSpace /DeviceRGB \
         /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        photo.len()
    )
    .into_bytes();
    image.extend_from_slice(&photo);
    image.extend_from_slice(b"\nendstream");
    objects.push(image);
    for (p, page_lines) in pages.iter().enumerate() {
        let mut content = String::new();
        if p == 0 {
            content.push_str("q 90 0 0 120 460 712 cm /Im1 Do Q\n");
        }
        content.push_str("BT /F1 10.5 Tf 14 TL 60 700 Td\n");
        for line in *page_lines {
            content.push_str(&pdf_literal(line));
            content.push_str(" Tj T*\n");
        }
        content.push_str("ET");
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> \
                 /XObject << /Im1 4 0 R >> >> >>",
                6 + 2 * p
            )
            .into_bytes(),
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(content.as_bytes());
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    let mut out = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

// ---------------------------------------------------------------------------------------------
// The server process and what /proc says about it

/// `petal` with the benchmark's environment: no inherited `PETAL_*` (or `RUST_LOG`) setting.
fn petal(bin: &Path, data_dir: &Path, port: u16) -> Command {
    let mut command = Command::new(bin);
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if text.starts_with("PETAL_") || text == "RUST_LOG" {
            command.env_remove(&name);
        }
    }
    command
        .env("PETAL_DATA_DIR", data_dir)
        .env("PETAL_LISTEN", format!("127.0.0.1:{port}"))
        .env("PETAL_PUBLIC_URL", format!("http://127.0.0.1:{port}"));
    command
}

/// The running server; stopped (SIGTERM, then SIGKILL) when dropped.
struct Server {
    child: Child,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let until = Instant::now() + Duration::from_secs(40);
        while Instant::now() < until {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A `kB` field of `/proc/<pid>/status`.
fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// `(comm, utime + stime in ticks)` from a `/proc/.../stat` file.
fn stat_ticks(path: &Path) -> Option<(String, u64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 2..)?.split(' ').collect();
    // After "pid (comm) ": state is field 3 of the man page, utime 14, stime 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

/// CPU ticks of every live thread of `pid`, by thread id.
fn thread_ticks(pid: u32) -> HashMap<u32, (String, u64)> {
    let mut threads = HashMap::new();
    let Ok(entries) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return threads };
    for entry in entries.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else { continue };
        if let Some(found) = stat_ticks(&entry.path().join("stat")) {
            threads.insert(tid, found);
        }
    }
    threads
}

fn process_ticks(pid: u32) -> u64 {
    stat_ticks(Path::new(&format!("/proc/{pid}/stat"))).map_or(0, |(_, ticks)| ticks)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// What the sampler thread saw.
#[derive(Default)]
struct Samples {
    max_rss_kb: u64,
    /// Per thread id: name and the most CPU ticks seen.
    threads: HashMap<u32, (String, u64)>,
    /// `(seconds since the clock started, VmRSS kB)`.
    rss: Vec<(f64, u64)>,
}

/// Samples the server's `VmRSS` and per-thread CPU every 100 ms until `stop` is set.
fn sampler(pid: u32, started: Instant, stop: Arc<AtomicBool>) -> Arc<Mutex<Samples>> {
    let samples = Arc::new(Mutex::new(Samples::default()));
    let shared = samples.clone();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let rss = status_kb(pid, "VmRSS").unwrap_or(0);
            let threads = thread_ticks(pid);
            {
                let mut s = shared.lock().unwrap();
                s.max_rss_kb = s.max_rss_kb.max(rss);
                s.rss.push((started.elapsed().as_secs_f64(), rss));
                for (tid, (comm, ticks)) in threads {
                    let entry = s.threads.entry(tid).or_insert((comm, 0));
                    entry.1 = entry.1.max(ticks);
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    samples
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------------
// HTTP

async fn post(client: &reqwest::Client, url: String, body: Value, expect: u16) -> Value {
    let response = client.post(&url).json(&body).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, expect, "POST {url}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn totp_now(secret: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret).unwrap();
    let totp = totp_rs::Builder::new().with_secret(secret).build().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    totp.generate(now.as_secs()).to_string()
}

/// Accepts the Admin invite, signs in and enrols TOTP; returns the access token.
async fn sign_up(client: &reqwest::Client, base: &str, invite_token: &str) -> String {
    post(
        client,
        format!("{base}/api/v1/invites/accept"),
        json!({"token": invite_token, "name": "Bench Admin", "password": PASSWORD}),
        201,
    )
    .await;
    let login = post(
        client,
        format!("{base}/api/v1/auth/login"),
        json!({"email": ADMIN, "password": PASSWORD}),
        200,
    )
    .await;
    let mfa_token = login["mfa_token"].as_str().unwrap().to_owned();
    let setup = post(
        client,
        format!("{base}/api/v1/auth/mfa/totp/setup"),
        json!({"mfa_token": mfa_token}),
        200,
    )
    .await;
    let code = totp_now(setup["secret"].as_str().unwrap());
    let session = post(
        client,
        format!("{base}/api/v1/auth/mfa/totp/activate"),
        json!({"mfa_token": mfa_token, "code": code}),
        200,
    )
    .await;
    session["access_token"].as_str().unwrap().to_owned()
}

async fn get_json(client: &reqwest::Client, token: &str, url: &str) -> Value {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, 200, "GET {url}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// What one upload request gave.
struct Uploaded {
    stored: usize,
    rejected: Vec<String>,
    seconds: f64,
}

async fn upload(client: &reqwest::Client, token: &str, url: &str, files: &[CvFile]) -> Uploaded {
    let form = files.iter().fold(Form::new(), |form, file| {
        form.part("file", Part::bytes(file.bytes.clone()).file_name(file.name.clone()))
    });
    let started = Instant::now();
    let response = client.post(url).bearer_auth(token).multipart(form).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(status, 201, "upload: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    let rejected = body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}: {}", r["filename"], r["code"]))
        .collect();
    Uploaded { stored: body["documents"].as_array().unwrap().len(), rejected, seconds }
}

/// Exports the organisation and downloads the ZIP, then does the same job with the reference
/// tools on the same files; returns the report (a Markdown table).
async fn export(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    pid: u32,
    files: &[CvFile],
    dir: &Path,
) -> String {
    let hwm_before = status_kb(pid, "VmHWM").unwrap_or(0);
    let started = Instant::now();
    let export = post_bearer(client, token, format!("{base}/api/v1/org/export"), 202).await;
    let status_url = format!("{base}/api/v1/exports/{}", export["id"].as_str().unwrap());
    let mut peak_rss = 0;
    let ready = loop {
        peak_rss = peak_rss.max(status_kb(pid, "VmRSS").unwrap_or(0));
        let seen = get_json(client, token, &status_url).await;
        match seen["status"].as_str() {
            Some("running") => tokio::time::sleep(Duration::from_millis(20)).await,
            Some("ready") => break seen,
            other => panic!("export ended {other:?}"),
        }
    };
    let built = started.elapsed().as_secs_f64();
    let downloading = Instant::now();
    let url = ready["download"]["url"].as_str().unwrap();
    let zip = client.get(url).bearer_auth(token).send().await.unwrap().bytes().await.unwrap();
    let downloaded = downloading.elapsed().as_secs_f64();
    let entries = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).unwrap().len();
    let hwm_after = status_kb(pid, "VmHWM").unwrap_or(0);

    // The reference: the same files, zipped and encrypted by the usual tools.
    let plain = dir.join("reference");
    std::fs::create_dir_all(&plain).unwrap();
    for (i, file) in files.iter().enumerate() {
        std::fs::write(plain.join(format!("{i}.{}", file.format)), &file.bytes).unwrap();
    }
    let timed = |program: &str, args: &[&str]| {
        let started = Instant::now();
        let status = Command::new(program).args(args).current_dir(dir).status().unwrap();
        assert!(status.success(), "{program} failed");
        started.elapsed().as_secs_f64()
    };
    let zipping = timed("zip", &["-q", "-r", "reference.zip", "reference"]);
    let encrypting = timed(
        "openssl",
        &[
            "enc",
            "-aes-256-ctr",
            "-pbkdf2",
            "-pass",
            "pass:bench",
            "-in",
            "reference.zip",
            "-out",
            "reference.enc",
        ],
    );
    let reference_size = std::fs::metadata(dir.join("reference.zip")).unwrap().len();
    let mb = |kb: u64| kb as f64 / 1024.0;
    format!(
        "| export of {n} documents | seconds | size |\n|---|---|---|\n\
         | Petal: request → ready (ZIP built, sealed, stored) | {built:.2} s | {zip_mb:.1} MB, {entries} entries |\n\
         | Petal: download (decrypted, streamed) | {downloaded:.2} s | |\n\
         | reference: `zip -r` (deflate, level 6) | {zipping:.2} s | {ref_mb:.1} MB |\n\
         | reference: `openssl enc -aes-256-ctr` of that ZIP | {encrypting:.2} s | |\n\
         \nServer `VmHWM` {before:.0} MB before the export, {after:.0} MB after; highest `VmRSS` \
         seen while it ran {peak:.0} MB.",
        n = files.len(),
        zip_mb = zip.len() as f64 / 1e6,
        ref_mb = reference_size as f64 / 1e6,
        before = mb(hwm_before),
        after = mb(hwm_after),
        peak = mb(peak_rss),
    )
}

async fn post_bearer(client: &reqwest::Client, token: &str, url: String, expect: u16) -> Value {
    let response = client.post(&url).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(status, expect, "POST {url}: {text}");
    serde_json::from_str(&text).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The run

struct Options {
    petal: PathBuf,
    cvs: u64,
    batch: usize,
    parallel: usize,
    keep: bool,
    photo_kb: usize,
    export: bool,
}

fn options() -> Options {
    let mut options = Options {
        petal: PathBuf::new(),
        cvs: 1000,
        batch: 50,
        parallel: 2,
        keep: false,
        photo_kb: 0,
        export: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--petal" => options.petal = PathBuf::from(value()),
            "--cvs" => options.cvs = value().parse().unwrap(),
            "--batch" => options.batch = value().parse().unwrap(),
            "--parallel" => options.parallel = value().parse().unwrap(),
            "--photo-kb" => options.photo_kb = value().parse().unwrap(),
            "--keep" => options.keep = true,
            "--export" => options.export = true,
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(options.petal.is_file(), "--petal must name the built petal binary");
    options
}

/// A progress sample: seconds since the clock started, and the job's `done + failed`.
type Progress = (f64, i64);

#[tokio::main]
async fn main() {
    let options = options();
    let n = usize::try_from(options.cvs).unwrap();

    // The corpus, before anything else.
    let generated = Instant::now();
    let files: Vec<CvFile> = (0..options.cvs).map(|i| cv_file(i, options.photo_kb)).collect();
    let generation = generated.elapsed();
    let mut by_format: Vec<(&str, usize, usize)> = Vec::new();
    for file in &files {
        match by_format.iter_mut().find(|(f, _, _)| *f == file.format) {
            Some(entry) => {
                entry.1 += 1;
                entry.2 += file.bytes.len();
            }
            None => by_format.push((file.format, 1, file.bytes.len())),
        }
    }
    let total_bytes: usize = files.iter().map(|f| f.bytes.len()).sum();

    // The server, an organisation, an Admin signed in, a job.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(&log_path).unwrap();
    let child = petal(&options.petal, &data_dir, port)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut server = Server { child };
    let pid = server.pid();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
    let ready_by = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(format!("{base}/readyz")).send().await
            && response.status().is_success()
        {
            break;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("petal serve exited ({status}); see {}", log_path.display());
        }
        assert!(Instant::now() < ready_by, "petal serve not ready after 60 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let created = petal(&options.petal, &data_dir, port)
        .args(["org", "create", "--name", "Bench LLP", "--admin-email", ADMIN])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(created.status.success(), "petal org create failed");
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = sign_up(&client, &base, created["invite_token"].as_str().unwrap()).await;
    let job = {
        let response = client
            .post(format!("{base}/api/v1/jobs"))
            .bearer_auth(&token)
            .json(&json!({
                "title": "Disputes Associate (legal technology)",
                "description": "Commercial litigation associate who also works on the firm's \
                                case-management platform. London, hybrid.",
                "criteria": [
                    {"text": "2:1 degree or above", "kind": "knockout", "weight": 5},
                    {"text": "3+ years' experience in litigation", "kind": "must", "weight": 4},
                    {"text": "SQE1 and SQE2", "kind": "must", "weight": 3},
                    {"text": "Fluent French", "kind": "nice", "weight": 2},
                    {"text": "Kubernetes", "kind": "nice", "weight": 2},
                    {"text": "Rust in production", "kind": "nice", "weight": 3},
                    {"text": "Contract law", "kind": "nice", "weight": 1}
                ]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    };
    let job_url = format!("{base}/api/v1/jobs/{job}");
    let idle_rss_kb = status_kb(pid, "VmRSS").unwrap_or(0);
    let ticks_per_second = clock_ticks_per_second();
    let threads_before = thread_ticks(pid);
    let process_before = process_ticks(pid);
    let self_before = process_ticks(std::process::id());

    // The clock starts.
    let started = Instant::now();
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let samples = sampler(pid, started, stop_sampling.clone());

    // Progress, polled from the start so the overlap of upload and screening shows.
    let uploads_done = Arc::new(AtomicBool::new(false));
    let poller = {
        let client = client.clone();
        let token = token.clone();
        let job_url = job_url.clone();
        let uploads_done = uploads_done.clone();
        tokio::spawn(async move {
            let mut progress: Vec<Progress> = Vec::new();
            loop {
                let seen = get_json(&client, &token, &job_url).await;
                let finished = uploads_done.load(Ordering::SeqCst);
                let done = seen["progress"]["done"].as_i64().unwrap_or(0)
                    + seen["progress"]["failed"].as_i64().unwrap_or(0);
                progress.push((started.elapsed().as_secs_f64(), done));
                let status = seen["status"].as_str().unwrap_or("").to_owned();
                if finished
                    && seen["progress"]["total"].as_i64() == Some(i64::try_from(n).unwrap())
                    && matches!(status.as_str(), "completed" | "failed")
                {
                    return (progress, seen);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    let upload_url = format!("{job_url}/documents");
    let results: Vec<Uploaded> = futures_util::stream::iter(files.chunks(options.batch.max(1)))
        .map(|batch| upload(&client, &token, &upload_url, batch))
        .buffer_unordered(options.parallel.max(1))
        .collect()
        .await;
    let upload_seconds = started.elapsed().as_secs_f64();
    uploads_done.store(true, Ordering::SeqCst);
    let stored: usize = results.iter().map(|u| u.stored).sum();
    let rejected: Vec<&String> = results.iter().flat_map(|u| &u.rejected).collect();
    let mut request_seconds: Vec<f64> = results.iter().map(|u| u.seconds).collect();
    request_seconds.sort_by(f64::total_cmp);

    let (progress, final_job) = poller.await.unwrap();
    let screened_seconds = started.elapsed().as_secs_f64();
    let ranked = get_json(&client, &token, &format!("{job_url}/results")).await;
    let total_seconds = started.elapsed().as_secs_f64();
    let results_seconds = total_seconds - screened_seconds;
    // The clock stops.

    let hwm_kb = status_kb(pid, "VmHWM").unwrap_or(0);
    stop_sampling.store(true, Ordering::Relaxed);
    let process_cpu = (process_ticks(pid) - process_before) as f64 / ticks_per_second;
    let client_cpu = (process_ticks(std::process::id()) - self_before) as f64 / ticks_per_second;
    let threads_after = thread_ticks(pid);
    std::thread::sleep(Duration::from_millis(150));
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let exported = if options.export {
        Some(export(&client, &base, &token, pid, &files, dir.path()).await)
    } else {
        None
    };
    server.stop();

    // Checks on the answer.
    let ranked = ranked.as_array().cloned().unwrap_or_default();
    let ranked_count = ranked.iter().filter(|r| r["rank"].is_u64()).count();
    let in_order = ranked
        .iter()
        .filter(|r| r["rank"].is_u64())
        .enumerate()
        .all(|(i, r)| r["rank"].as_u64() == Some(i as u64 + 1));
    let scores_descending = ranked
        .iter()
        .filter(|r| r["rank"].is_u64())
        .map(|r| r["score"].as_u64().unwrap_or(0))
        .collect::<Vec<_>>()
        .windows(2)
        .all(|w| w[0] >= w[1]);
    let mut recommendations: HashMap<String, usize> = HashMap::new();
    let mut flags: HashMap<String, usize> = HashMap::new();
    for result in &ranked {
        *recommendations.entry(result["recommendation"].to_string()).or_default() += 1;
        for flag in result["flags"].as_array().into_iter().flatten() {
            *flags.entry(flag.as_str().unwrap_or("?").to_owned()).or_default() += 1;
        }
    }
    let document_statuses = (
        final_job["progress"]["done"].as_i64().unwrap_or(0),
        final_job["progress"]["failed"].as_i64().unwrap_or(0),
    );

    // Screened by the time the uploads ended, and the rate after that.
    let screened_at_upload_end =
        progress.iter().filter(|(t, _)| *t <= upload_seconds).map(|(_, d)| *d).max().unwrap_or(0);
    let first_screened = progress.iter().find(|(_, d)| *d > 0).map_or(0.0, |(t, _)| *t);
    let tail_rate = (n as f64 - screened_at_upload_end as f64)
        / (screened_seconds - upload_seconds).max(f64::EPSILON);

    // CPU by thread group, during the clock: one value per thread id, the larger of the
    // sampled and final ticks (threads that exited between samples are in the process total
    // only).
    let mut groups: HashMap<String, (usize, f64)> = HashMap::new();
    let mut per_thread: HashMap<u32, (String, u64)> = samples.threads.clone();
    for (tid, (comm, ticks)) in &threads_after {
        let entry = per_thread.entry(*tid).or_insert((comm.clone(), 0));
        entry.1 = entry.1.max(*ticks);
    }
    for (tid, (comm, ticks)) in &per_thread {
        let before = threads_before.get(tid).map_or(0, |(_, t)| *t);
        let seconds = ticks.saturating_sub(before) as f64 / ticks_per_second;
        if seconds > 0.0 {
            let entry = groups.entry(comm.clone()).or_default();
            entry.0 += 1;
            entry.1 += seconds;
        }
    }
    let mut groups: Vec<(String, (usize, f64))> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.1.total_cmp(&a.1.1));

    let log_text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let warnings = log_text.lines().filter(|l| l.contains("\"WARN\"")).count();
    let errors = log_text.lines().filter(|l| l.contains("\"ERROR\"")).count();

    // The report.
    println!(
        "Corpus: {n} CVs, {:.2} MB in all, generated in {:.2} s before the clock started; {}.",
        total_bytes as f64 / 1e6,
        generation.as_secs_f64(),
        if options.photo_kb > 0 {
            format!("every PDF with a photo of about {} KB", options.photo_kb)
        } else {
            "PDFs as generated, without photos or embedded fonts".to_owned()
        }
    );
    println!();
    println!("| format | files | average size |");
    println!("|---|---|---|");
    for (format, count, bytes) in &by_format {
        println!("| {format} | {count} | {:.1} KB |", *bytes as f64 / *count as f64 / 1000.0);
    }
    println!();
    println!(
        "Upload: {} requests of up to {} files, {} at a time; {stored} stored, {} rejected.",
        results.len(),
        options.batch,
        options.parallel,
        rejected.len()
    );
    for reason in rejected.iter().take(5) {
        println!("  rejected {reason}");
    }
    println!();
    // The goals are stated for a 1 000-CV job; for other sizes the figures are only shown.
    let goal = |ok: bool| match (n == 1000, ok) {
        (false, _) => "stated for 1 000 CVs",
        (true, true) => "met",
        (true, false) => "MISSED",
    };
    let all_back = ranked.len() == n;
    println!("| figure | value |");
    println!("|---|---|");
    println!(
        "| total, upload → ranked results ({n} CVs) | {total_seconds:.1} s (goal < 60 s: {}) |",
        goal(total_seconds < 60.0 && all_back)
    );
    println!("| throughput, end to end | {:.1} CVs/s |", n as f64 / total_seconds);
    println!(
        "| upload (all requests answered) | {upload_seconds:.1} s, {:.1} CVs/s |",
        n as f64 / upload_seconds
    );
    println!(
        "| upload request latency (min / median / max) | {:.2} / {:.2} / {:.2} s |",
        request_seconds.first().copied().unwrap_or(0.0),
        request_seconds.get(request_seconds.len() / 2).copied().unwrap_or(0.0),
        request_seconds.last().copied().unwrap_or(0.0)
    );
    println!("| first CV screened at | {first_screened:.1} s |");
    println!("| screened when the uploads ended | {screened_at_upload_end} of {n} |");
    println!(
        "| job `completed` at | {screened_seconds:.1} s (after uploads: {:.1} s at {tail_rate:.1} CVs/s) |",
        screened_seconds - upload_seconds
    );
    println!("| `GET /results` ({} entries) | {results_seconds:.2} s |", ranked.len());
    println!(
        "| server peak memory, `VmHWM` | {:.0} MB (goal < 512 MB: {}) |",
        hwm_kb as f64 / 1024.0,
        goal(hwm_kb < 512 * 1024)
    );
    println!(
        "| server `VmRSS`, idle before / max sampled (100 ms) | {:.0} / {:.0} MB |",
        idle_rss_kb as f64 / 1024.0,
        samples.max_rss_kb as f64 / 1024.0
    );
    println!(
        "| server CPU time on the clock | {process_cpu:.1} s ({:.2} cores busy on average) |",
        process_cpu / total_seconds
    );
    println!("| benchmark client CPU time on the clock | {client_cpu:.1} s |");
    println!();
    println!("| server thread (name) | threads | CPU s |");
    println!("|---|---|---|");
    let named: f64 = groups.iter().map(|(_, (_, s))| s).sum();
    for (comm, (count, seconds)) in &groups {
        println!("| `{comm}` | {count} | {seconds:.1} |");
    }
    println!("| (threads that exited before sampling) | | {:.1} |", (process_cpu - named).max(0.0));
    println!();
    println!(
        "Checks: {} results (expected {n}): {}; {ranked_count} ranked, ranks 1..{ranked_count} in \
         order: {in_order}, scores non-increasing: {scores_descending}; job status {}, \
         {} screened, {} failed.",
        ranked.len(),
        if all_back { "ok" } else { "WRONG" },
        final_job["status"],
        document_statuses.0,
        document_statuses.1
    );
    let mut recommendations: Vec<_> = recommendations.into_iter().collect();
    recommendations.sort();
    let mut flags: Vec<_> = flags.into_iter().collect();
    flags.sort();
    println!("Recommendations: {recommendations:?}; flags: {flags:?}.");
    println!("Server log: {} lines, {warnings} WARN, {errors} ERROR.", log_text.lines().count());
    let rss_line: Vec<String> = samples
        .rss
        .iter()
        .step_by((samples.rss.len() / 12).max(1))
        .map(|(t, kb)| format!("{t:.0}s:{:.0}", *kb as f64 / 1024.0))
        .collect();
    println!("VmRSS over time (MB): {}", rss_line.join(" "));
    if errors > 0 || warnings > 0 {
        for line in
            log_text.lines().filter(|l| l.contains("\"WARN\"") || l.contains("\"ERROR\"")).take(3)
        {
            println!("  {line}");
        }
    }
    if let Some(report) = exported {
        println!();
        println!("{report}");
    }
    if options.keep {
        let kept = dir.keep();
        println!("Data directory kept at {}", kept.display());
    }
}
