//! Measures sealing and opening throughput of the document envelope format on a 32 MiB
//! document, for comparison with `openssl speed -evp aes-256-gcm -bytes 65536` in the same run
//! (see `docs/BENCHMARKS.md` and `scripts/bench-envelope.sh`).

use petal_crypto::envelope::{WrappingKey, open, seal};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kek = WrappingKey::new("bench", &[9u8; 32])?;
    let document: Vec<u8> = (0..32 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let context = b"org|job|doc";
    let rounds = 8;
    let mib = (document.len() * rounds) as f64 / (1024.0 * 1024.0);

    let started = Instant::now();
    let mut blob = Vec::new();
    for _ in 0..rounds {
        blob = seal(&kek, context, &document)?;
    }
    let seal_rate = mib / started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..rounds {
        let plain = open(&kek, context, &blob)?;
        assert_eq!(plain.len(), document.len());
    }
    let open_rate = mib / started.elapsed().as_secs_f64();

    // The same cipher on one reused 64 KiB buffer: the ceiling without allocation and copies.
    let key = aws_lc_rs::aead::LessSafeKey::new(aws_lc_rs::aead::UnboundKey::new(
        &aws_lc_rs::aead::AES_256_GCM,
        &[3u8; 32],
    )?);
    let mut buffer = vec![0u8; 64 * 1024];
    let segments = document.len() * rounds / buffer.len();
    let started = Instant::now();
    for i in 0..segments {
        let mut nonce = [0u8; 12];
        nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
        let nonce = aws_lc_rs::aead::Nonce::assume_unique_for_key(nonce);
        let _tag =
            key.seal_in_place_separate_tag(nonce, aws_lc_rs::aead::Aad::empty(), &mut buffer)?;
    }
    let raw_rate = mib / started.elapsed().as_secs_f64();

    println!("aws-lc-rs AES-256-GCM, 64 KiB in place: {raw_rate:.0} MiB/s");
    println!("petal envelope seal: {seal_rate:.0} MiB/s");
    println!("petal envelope open: {open_rate:.0} MiB/s");
    Ok(())
}
