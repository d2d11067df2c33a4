//! Measures the document vault's data path on 100 KB and 10 MB documents: the encryption step
//! alone (in place, as uploads do), encrypt + store into the local object store, and fetch +
//! decrypt as a download streams. Run by `scripts/bench-vault.sh` beside
//! `openssl speed -evp aes-256-gcm`; figures in `docs/BENCHMARKS.md`.

use futures_util::StreamExt;
use petal_crypto::Key256;
use petal_crypto::envelope::{Opener, seal_in_place};
use petal_storage::objects::ObjectStorage;
use std::time::Instant;

const MIB: f64 = 1024.0 * 1024.0;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let url = url::Url::from_directory_path(dir.path().join("objects"))
        .map_err(|()| "temporary directory is not absolute")?;
    let store = ObjectStorage::open(url.as_str(), &[])?;
    let kek = Key256::generate()?.wrapping_key("job:bench")?;
    let context = b"petal/document/v1|org:bench|job:bench|doc:bench";
    println!("| document | step | MiB/s |");
    println!("|---|---|---|");
    for (label, size, rounds) in [("100 KB", 100_000usize, 2_000), ("10 MB", 10_000_000, 40)] {
        let total = (size * rounds) as f64 / MIB;
        let mut buffer: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();

        // The encryption step: the upload's own buffer, sealed where it lies.
        let started = Instant::now();
        for _ in 0..rounds {
            buffer = seal_in_place(&kek, context, buffer)?.into_body();
        }
        let seal = total / started.elapsed().as_secs_f64();

        // Encrypt and store, as an upload does after its checks.
        let started = Instant::now();
        for round in 0..rounds {
            let sealed = seal_in_place(&kek, context, std::mem::take(&mut buffer))?;
            let chunks = sealed.into_chunks();
            buffer = vec![0u8; size];
            store.put(&format!("documents/{round}"), chunks).await?;
        }
        let put = total / started.elapsed().as_secs_f64();

        // Fetch and decrypt, as a download streams.
        let started = Instant::now();
        for round in 0..rounds {
            let mut stream = store.get_stream(&format!("documents/{round}")).await?;
            let mut opener = Opener::new(&kek, context);
            let mut received = 0;
            while let Some(chunk) = stream.next().await {
                received += opener.push(&chunk?)?.len();
            }
            received += opener.finish()?.len();
            assert_eq!(received, size);
        }
        let get = total / started.elapsed().as_secs_f64();
        println!("| {label} | encrypt (in place) | {seal:.0} |");
        println!("| {label} | encrypt + store (local files) | {put:.0} |");
        println!("| {label} | fetch + decrypt (streamed) | {get:.0} |");
        for round in 0..rounds {
            store.delete(&format!("documents/{round}")).await?;
        }
    }
    Ok(())
}
