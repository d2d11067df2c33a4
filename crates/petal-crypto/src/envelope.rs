//! Envelope encryption for documents: a random data key per document, wrapped by a
//! key-encryption key (the job key), and the document encrypted with AES-256-GCM in fixed-size
//! segments following the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015).
//!
//! Layout of a sealed blob:
//!
//! ```text
//! header:  "PETALDOC" | version (1) | segment size (u32 BE) | key id length (u8) | key id
//!          | wrapped data key length (u16 BE) | wrapped data key | nonce prefix (7)
//! body:    segment 0 ‖ segment 1 ‖ … ‖ segment n-1, each ciphertext ‖ 16-byte tag
//! ```
//!
//! Segment *i* uses the nonce `prefix ‖ i (u32 BE) ‖ last (1 byte)` and the associated data
//! `context ‖ header`. The counter makes a reordered or swapped segment fail, the last-segment
//! flag makes a truncated blob fail, and the context (organisation, job and document ids)
//! makes a blob moved to another document fail; any flipped bit fails its tag.

use crate::{CryptoError, Key256};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use bytes::Bytes;
use std::borrow::Borrow;
use zeroize::Zeroizing;

/// Plaintext bytes per segment.
pub const SEGMENT_SIZE: usize = 64 * 1024;
const MAGIC: &[u8; 8] = b"PETALDOC";
const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const PREFIX_LEN: usize = 7;

/// A 256-bit key that wraps other keys (an organisation or job key).
pub struct WrappingKey {
    id: String,
    key: LessSafeKey,
}

impl std::fmt::Debug for WrappingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WrappingKey({})", self.id)
    }
}

fn aead(bytes: &[u8]) -> Result<LessSafeKey, CryptoError> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError)?))
}

fn random<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut out = [0u8; N];
    aws_lc_rs::rand::fill(&mut out).map_err(|_| CryptoError)?;
    Ok(out)
}

impl WrappingKey {
    /// A wrapping key from 32 bytes, named by `id` (recorded in every header it wraps for, so
    /// a rotated key can be told apart). Ids are at most 255 bytes.
    pub fn new(id: &str, bytes: &[u8; 32]) -> Result<Self, CryptoError> {
        if id.len() > 255 {
            return Err(CryptoError);
        }
        Ok(Self { id: id.to_owned(), key: aead(bytes)? })
    }

    /// Encrypts `key` under this key with `context` as associated data: `nonce ‖ ct ‖ tag`.
    pub fn wrap_key(&self, key: &Key256, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.wrap(key.bytes(), context)
    }

    fn wrap(&self, key: &[u8; 32], context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce: [u8; 12] = random()?;
        let mut buffer = key.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut buffer,
            )
            .map_err(|_| CryptoError)?;
        Ok([nonce.as_slice(), &buffer].concat())
    }

    /// Decrypts what [`WrappingKey::wrap_key`] produced with the same `context`.
    pub fn unwrap_key(&self, wrapped: &[u8], context: &[u8]) -> Result<Key256, CryptoError> {
        let (nonce, sealed) = wrapped.split_at_checked(12).ok_or(CryptoError)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError)?;
        let mut buffer = Zeroizing::new(sealed.to_vec());
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), buffer.as_mut_slice())
            .map_err(|_| CryptoError)?;
        let mut key = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(CryptoError);
        }
        key.copy_from_slice(plain);
        Ok(Key256::from_bytes(key))
    }
}

/// Seals `plaintext` for the document identified by `context` (its organisation, job and
/// document ids), with a fresh data key wrapped by `kek`, as one contiguous blob.
pub fn seal(kek: &WrappingKey, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    Ok(seal_in_place(kek, context, plaintext.to_vec())?.to_vec())
}

/// A sealed document whose body is the plaintext's own buffer, encrypted where it lay: the
/// blob is `header ‖ segment 0 ‖ tag 0 ‖ segment 1 ‖ tag 1 ‖ …`, handed out as chunks that
/// borrow that buffer, so sealing a large upload neither allocates nor copies it.
#[derive(Debug)]
pub struct Sealed {
    header: Vec<u8>,
    body: Vec<u8>,
    tags: Vec<[u8; TAG_LEN]>,
}

impl Sealed {
    /// The blob's length in bytes.
    pub fn len(&self) -> usize {
        self.header.len() + self.body.len() + self.tags.len() * TAG_LEN
    }

    /// Whether the blob is empty (never: a blob has at least a header and one tag).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The blob as ordered chunks, ready to write (the body is shared, not copied).
    pub fn into_chunks(self) -> Vec<Bytes> {
        let body = Bytes::from(self.body);
        let mut chunks = Vec::with_capacity(2 + 2 * self.tags.len());
        chunks.push(Bytes::from(self.header));
        let mut start = 0;
        for tag in self.tags {
            let end = (start + SEGMENT_SIZE).min(body.len());
            chunks.push(body.slice(start..end));
            chunks.push(Bytes::copy_from_slice(&tag));
            start = end;
        }
        chunks
    }

    /// The blob as one contiguous buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        out.extend_from_slice(&self.header);
        let mut segments = self.body.chunks(SEGMENT_SIZE);
        for tag in &self.tags {
            out.extend_from_slice(segments.next().unwrap_or_default());
            out.extend_from_slice(tag);
        }
        out
    }

    /// Gives back the body buffer (now ciphertext), for reuse.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Seals `plaintext` like [`seal`], encrypting it in its own buffer.
pub fn seal_in_place(
    kek: &WrappingKey,
    context: &[u8],
    mut plaintext: Vec<u8>,
) -> Result<Sealed, CryptoError> {
    let (header, Segments { key, aad, prefix, .. }) = new_blob(kek, context)?;
    // An empty document is one empty final segment.
    let count = plaintext.len().div_ceil(SEGMENT_SIZE).max(1);
    let mut tags = Vec::with_capacity(count);
    let mut segments = plaintext.chunks_mut(SEGMENT_SIZE);
    for i in 0..count {
        let segment = segments.next().unwrap_or_default();
        let tag = key
            .seal_in_place_separate_tag(
                nonce(&prefix, i, i + 1 == count)?,
                Aad::from(&aad),
                segment,
            )
            .map_err(|_| CryptoError)?;
        let mut bytes = [0u8; TAG_LEN];
        bytes.copy_from_slice(tag.as_ref());
        tags.push(bytes);
    }
    Ok(Sealed { header, body: plaintext, tags })
}

/// A fresh data key wrapped by `kek`, the header that records it, and the segment state to
/// seal the body with.
fn new_blob(kek: &WrappingKey, context: &[u8]) -> Result<(Vec<u8>, Segments), CryptoError> {
    let data_key = Key256::generate()?;
    let wrapped = kek.wrap_key(&data_key, context)?;
    let prefix: [u8; PREFIX_LEN] = random()?;
    let mut header = Vec::with_capacity(64 + wrapped.len());
    header.extend_from_slice(MAGIC);
    header.push(VERSION);
    header.extend_from_slice(&u32::try_from(SEGMENT_SIZE).map_err(|_| CryptoError)?.to_be_bytes());
    header.push(u8::try_from(kek.id.len()).map_err(|_| CryptoError)?);
    header.extend_from_slice(kek.id.as_bytes());
    header.extend_from_slice(&u16::try_from(wrapped.len()).map_err(|_| CryptoError)?.to_be_bytes());
    header.extend_from_slice(&wrapped);
    header.extend_from_slice(&prefix);
    let segments = Segments {
        key: aead(data_key.bytes())?,
        aad: [context, &header].concat(),
        prefix,
        sealed_len: SEGMENT_SIZE + TAG_LEN,
        index: 0,
    };
    Ok((header, segments))
}

/// Seals a blob as its plaintext is produced, one segment at a time, so a large file (an
/// export) is encrypted without being held whole. The output is byte for byte the layout
/// [`seal`] writes, and [`Opener`] opens it.
pub struct StreamSealer {
    segments: Segments,
    header: Option<Vec<u8>>,
    pending: Vec<u8>,
}

impl std::fmt::Debug for StreamSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamSealer(segment {})", self.segments.index)
    }
}

impl StreamSealer {
    /// A sealer for a blob identified by `context`, with a fresh data key wrapped by `kek`.
    pub fn new(kek: &WrappingKey, context: &[u8]) -> Result<Self, CryptoError> {
        let (header, segments) = new_blob(kek, context)?;
        Ok(Self { segments, header: Some(header), pending: Vec::with_capacity(SEGMENT_SIZE) })
    }

    /// Takes more plaintext and returns the sealed bytes now ready: the header first, then
    /// every full segment known not to be the last (more plaintext follows it).
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut out = self.header.take().unwrap_or_default();
        self.pending.extend_from_slice(input);
        let mut start = 0;
        while self.pending.len() - start > SEGMENT_SIZE {
            let end = start + SEGMENT_SIZE;
            let segment = self.pending.get_mut(start..end).ok_or(CryptoError)?;
            out.extend_from_slice(&self.segments.seal(segment, false)?);
            start = end;
        }
        self.pending.drain(..start);
        Ok(out)
    }

    /// Seals what remains as the last segment and returns the blob's final bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        let mut out = self.header.take().unwrap_or_default();
        let mut last = std::mem::take(&mut self.pending);
        out.extend_from_slice(&self.segments.seal(&mut last, true)?);
        Ok(out)
    }
}

fn nonce(prefix: &[u8; PREFIX_LEN], index: usize, last: bool) -> Result<Nonce, CryptoError> {
    let counter = u32::try_from(index).map_err(|_| CryptoError)?;
    let mut bytes = [0u8; 12];
    bytes[..PREFIX_LEN].copy_from_slice(prefix);
    bytes[PREFIX_LEN..11].copy_from_slice(&counter.to_be_bytes());
    bytes[11] = u8::from(last);
    Ok(Nonce::assume_unique_for_key(bytes))
}

/// The key id a sealed blob's data key is wrapped under (to pick the right key version).
pub fn key_id(blob: &[u8]) -> Result<&str, CryptoError> {
    let header = Header::parse(blob)?;
    std::str::from_utf8(header.key_id).map_err(|_| CryptoError)
}

struct Header<'a> {
    key_id: &'a [u8],
    wrapped: &'a [u8],
    prefix: [u8; PREFIX_LEN],
    segment_size: usize,
    len: usize,
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, CryptoError> {
        let mut rest = blob.strip_prefix(MAGIC.as_slice()).ok_or(CryptoError)?;
        let mut take = |n: usize| -> Result<&'a [u8], CryptoError> {
            let (head, tail) = rest.split_at_checked(n).ok_or(CryptoError)?;
            rest = tail;
            Ok(head)
        };
        if take(1)? != [VERSION] {
            return Err(CryptoError);
        }
        let segment_size =
            u32::from_be_bytes(take(4)?.try_into().map_err(|_| CryptoError)?) as usize;
        let id_len = usize::from(*take(1)?.first().ok_or(CryptoError)?);
        let key_id = take(id_len)?;
        let wrapped_len =
            usize::from(u16::from_be_bytes(take(2)?.try_into().map_err(|_| CryptoError)?));
        let wrapped = take(wrapped_len)?;
        let prefix: [u8; PREFIX_LEN] = take(PREFIX_LEN)?.try_into().map_err(|_| CryptoError)?;
        if segment_size == 0 || segment_size > 16 * 1024 * 1024 {
            return Err(CryptoError);
        }
        let len = MAGIC.len() + 1 + 4 + 1 + id_len + 2 + wrapped_len + PREFIX_LEN;
        Ok(Header { key_id, wrapped, prefix, segment_size, len })
    }
}

/// Opens a blob sealed by [`seal`] for the same `context`, with the wrapping key named in
/// its header. Any alteration, truncation, reordering or a different context fails.
pub fn open(kek: &WrappingKey, context: &[u8], blob: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut opener = Opener::new(kek, context);
    let mut plain = opener.push(blob)?;
    plain.extend_from_slice(&opener.finish()?);
    Ok(plain)
}

/// Longest possible header: magic, version, segment size, the longest key id and wrapped key.
const MAX_HEADER_LEN: usize = MAGIC.len() + 1 + 4 + 1 + 255 + 2 + u16::MAX as usize + PREFIX_LEN;

/// Opens a sealed blob as it streams in, one segment at a time, so a large document is
/// decrypted without holding it whole. Every segment is authenticated before its plaintext is
/// returned; a blob cut short is detected by [`Opener::finish`], which only succeeds on a
/// segment sealed as the last.
pub struct Opener<K: Borrow<WrappingKey>> {
    kek: K,
    context: Vec<u8>,
    segments: Option<Segments>,
    pending: Vec<u8>,
}

struct Segments {
    key: LessSafeKey,
    aad: Vec<u8>,
    prefix: [u8; PREFIX_LEN],
    sealed_len: usize,
    index: usize,
}

impl Segments {
    /// Seals the next segment in its buffer and returns it with its tag appended.
    fn seal(&mut self, segment: &mut [u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let nonce = nonce(&self.prefix, self.index, last)?;
        self.index += 1;
        let tag = self
            .key
            .seal_in_place_separate_tag(nonce, Aad::from(&self.aad), segment)
            .map_err(|_| CryptoError)?;
        let mut out = Vec::with_capacity(segment.len() + TAG_LEN);
        out.extend_from_slice(segment);
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    fn open<'a>(&mut self, sealed: &'a mut [u8], last: bool) -> Result<&'a [u8], CryptoError> {
        let nonce = nonce(&self.prefix, self.index, last)?;
        self.index += 1;
        let plain = self.key.open_in_place(nonce, Aad::from(&self.aad), sealed);
        plain.map(|p| &*p).map_err(|_| CryptoError)
    }
}

impl<K: Borrow<WrappingKey>> Opener<K> {
    /// An opener for a blob sealed for `context` under `kek` (owned or borrowed).
    pub fn new(kek: K, context: &[u8]) -> Self {
        Self { kek, context: context.to_vec(), segments: None, pending: Vec::new() }
    }

    fn start(&mut self) -> Result<bool, CryptoError> {
        let header = match Header::parse(&self.pending) {
            Ok(header) => header,
            Err(_) if self.pending.len() < MAX_HEADER_LEN => return Ok(false),
            Err(e) => return Err(e),
        };
        let kek = self.kek.borrow();
        if header.key_id != kek.id.as_bytes() {
            return Err(CryptoError);
        }
        let data_key = kek.unwrap_key(header.wrapped, &self.context)?;
        let header_bytes = self.pending.get(..header.len).ok_or(CryptoError)?;
        self.segments = Some(Segments {
            key: aead(data_key.bytes())?,
            aad: [self.context.as_slice(), header_bytes].concat(),
            prefix: header.prefix,
            sealed_len: header.segment_size + TAG_LEN,
            index: 0,
        });
        let header_len = header.len;
        self.pending.drain(..header_len);
        Ok(true)
    }

    /// Takes the next bytes of the blob and returns the plaintext of every segment they
    /// complete (except a possible last one, which [`Opener::finish`] returns).
    pub fn push(&mut self, input: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.pending.extend_from_slice(input);
        if self.segments.is_none() && !self.start()? {
            return Ok(Vec::new());
        }
        let segments = self.segments.as_mut().ok_or(CryptoError)?;
        let mut plain = Vec::with_capacity(self.pending.len());
        let mut start = 0;
        // A segment is known not to be the last only once more bytes follow it.
        while self.pending.len() - start > segments.sealed_len {
            let end = start + segments.sealed_len;
            let sealed = self.pending.get_mut(start..end).ok_or(CryptoError)?;
            plain.extend_from_slice(segments.open(sealed, false)?);
            start = end;
        }
        self.pending.drain(..start);
        Ok(plain)
    }

    /// Opens the final segment; fails if the blob ended anywhere but after a last segment.
    pub fn finish(mut self) -> Result<Vec<u8>, CryptoError> {
        if self.segments.is_none() && !self.start()? {
            return Err(CryptoError);
        }
        let segments = self.segments.as_mut().ok_or(CryptoError)?;
        if self.pending.is_empty() {
            return Err(CryptoError);
        }
        Ok(segments.open(&mut self.pending, true)?.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn kek() -> WrappingKey {
        WrappingKey::new("job-key-v1", &[7u8; 32]).unwrap()
    }

    const CONTEXT: &[u8] = b"org:1|job:2|doc:3";

    #[test]
    fn round_trips_empty_small_and_multi_segment_documents() {
        for len in [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 17] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let blob = seal(&kek(), CONTEXT, &plain).unwrap();
            assert_eq!(open(&kek(), CONTEXT, &blob).unwrap(), plain, "len {len}");
            assert_eq!(key_id(&blob).unwrap(), "job-key-v1");
        }
    }

    #[test]
    fn the_wrong_key_context_or_a_moved_blob_fails() {
        let blob = seal(&kek(), CONTEXT, b"curriculum vitae").unwrap();
        let other = WrappingKey::new("job-key-v1", &[8u8; 32]).unwrap();
        assert!(open(&other, CONTEXT, &blob).is_err());
        assert!(open(&kek(), b"org:1|job:2|doc:4", &blob).is_err(), "moved to another document");
        assert!(
            open(&kek(), b"org:9|job:2|doc:3", &blob).is_err(),
            "moved to another organisation"
        );
        let renamed = WrappingKey::new("job-key-v2", &[7u8; 32]).unwrap();
        assert!(open(&renamed, CONTEXT, &blob).is_err());
    }

    fn three_segments() -> (Vec<u8>, Vec<u8>) {
        let plain: Vec<u8> = (0..(2 * SEGMENT_SIZE + 100)).map(|i| (i % 13) as u8).collect();
        let blob = seal(&kek(), CONTEXT, &plain).unwrap();
        (plain, blob)
    }

    #[test]
    fn truncation_reordering_and_swapping_fail() {
        let (_, blob) = three_segments();
        let header_len = Header::parse(&blob).unwrap().len;
        let seg = SEGMENT_SIZE + TAG_LEN;
        // Dropping the last segment leaves a non-final segment last.
        assert!(open(&kek(), CONTEXT, &blob[..header_len + 2 * seg]).is_err());
        // Swapping the first two segments breaks the counters.
        let mut swapped = blob[..header_len].to_vec();
        swapped.extend_from_slice(&blob[header_len + seg..header_len + 2 * seg]);
        swapped.extend_from_slice(&blob[header_len..header_len + seg]);
        swapped.extend_from_slice(&blob[header_len + 2 * seg..]);
        assert!(open(&kek(), CONTEXT, &swapped).is_err());
        // A segment from another blob of the same document does not fit.
        let (_, other) = three_segments();
        let mut spliced = blob[..header_len + seg].to_vec();
        spliced.extend_from_slice(&other[header_len + seg..header_len + 2 * seg]);
        spliced.extend_from_slice(&blob[header_len + 2 * seg..]);
        assert!(open(&kek(), CONTEXT, &spliced).is_err());
        assert!(open(&kek(), CONTEXT, &blob[..header_len]).is_err(), "header only");
        assert!(open(&kek(), CONTEXT, b"PETALDOC").is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_flipped_bit_fails(plain in proptest::collection::vec(any::<u8>(), 0..2000), position in any::<usize>(), bit in 0u8..8) {
            let blob = seal(&kek(), CONTEXT, &plain).unwrap();
            let mut tampered = blob.clone();
            let i = position % tampered.len();
            tampered[i] ^= 1 << bit;
            prop_assert!(open(&kek(), CONTEXT, &tampered).is_err());
            prop_assert_eq!(open(&kek(), CONTEXT, &blob).unwrap(), plain);
        }

        #[test]
        fn a_blob_opens_only_for_the_ids_it_was_sealed_for(org in 0u32..4, job in 0u32..4, doc in 0u32..4, other in (0u32..4, 0u32..4, 0u32..4)) {
            let context = |(o, j, d): (u32, u32, u32)| format!("org:{o}|job:{j}|doc:{d}").into_bytes();
            let blob = seal(&kek(), &context((org, job, doc)), b"cv").unwrap();
            let opened = open(&kek(), &context(other), &blob);
            prop_assert_eq!(opened.is_ok(), other == (org, job, doc));
        }

        #[test]
        fn any_truncation_fails(plain in proptest::collection::vec(any::<u8>(), 1..3000), cut in any::<usize>()) {
            let blob = seal(&kek(), CONTEXT, &plain).unwrap();
            let keep = cut % blob.len();
            prop_assert!(open(&kek(), CONTEXT, &blob[..keep]).is_err());
        }
    }

    #[test]
    fn a_stream_sealed_blob_has_the_same_layout_and_opens_in_any_chunking() {
        // Empty, under one segment, exactly one, one and a byte, several.
        for len in [0, 1, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 3 * SEGMENT_SIZE + 5] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for piece in [1000, SEGMENT_SIZE, 7 * SEGMENT_SIZE] {
                let mut sealer = StreamSealer::new(&kek(), CONTEXT).unwrap();
                let mut blob = Vec::new();
                for chunk in plain.chunks(piece) {
                    blob.extend_from_slice(&sealer.push(chunk).unwrap());
                }
                blob.extend_from_slice(&sealer.finish().unwrap());
                assert_eq!(blob.len(), seal(&kek(), CONTEXT, &plain).unwrap().len(), "{len}");
                assert_eq!(open(&kek(), CONTEXT, &blob).unwrap(), plain, "{len} by {piece}");
                assert!(open(&kek(), b"another context", &blob).is_err());
                if len > SEGMENT_SIZE {
                    // Dropping the last segment is caught.
                    let cut = blob.len() - (len - SEGMENT_SIZE * (len / SEGMENT_SIZE)) - TAG_LEN;
                    assert!(open(&kek(), CONTEXT, &blob[..cut]).is_err(), "{len}");
                }
            }
        }
    }

    #[test]
    fn streaming_in_any_chunking_gives_the_same_plaintext() {
        let (plain, blob) = three_segments();
        let key = kek();
        for chunk in [1usize, 7, 4096, SEGMENT_SIZE + TAG_LEN, blob.len()] {
            let mut opener = Opener::new(&key, CONTEXT);
            let mut out = Vec::new();
            for piece in blob.chunks(chunk) {
                out.extend(opener.push(piece).unwrap());
            }
            out.extend(opener.finish().unwrap());
            assert_eq!(out, plain, "chunk {chunk}");
        }
        let empty = seal(&kek(), CONTEXT, b"").unwrap();
        assert_eq!(open(&key, CONTEXT, &empty).unwrap(), b"");
        assert!(Opener::new(&key, CONTEXT).finish().is_err(), "nothing pushed");
    }

    #[test]
    fn chunks_and_the_contiguous_blob_agree() {
        for len in [0, 10, SEGMENT_SIZE, 2 * SEGMENT_SIZE + 5] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
            let sealed = seal_in_place(&kek(), CONTEXT, plain.clone()).unwrap();
            let whole = sealed.to_vec();
            assert_eq!(whole.len(), sealed.len());
            let joined: Vec<u8> = sealed.into_chunks().concat();
            assert_eq!(joined, whole);
            assert_eq!(open(&kek(), CONTEXT, &joined).unwrap(), plain, "len {len}");
        }
    }
}
