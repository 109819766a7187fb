//! The backup file: every record of the database as length-prefixed key/value pairs, closed by a
//! count and a SHA-256 of everything before it, so that a truncated or damaged copy is refused
//! rather than restored.
//!
//! Layout: `saidno-backup 1\n`, then per record a big-endian u32 key length, the key, a u32 value
//! length, the value; then the end mark `u32::MAX`, the record count as a u64, and the digest.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"saidno-backup 1\n";
const END: u32 = u32::MAX;
/// No key or value saidno writes comes near this; a larger length means a damaged file.
const MAX_FIELD: u32 = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("not a saidno backup file")]
    NotABackup,
    #[error("the backup file is incomplete (cut short after {0} records)")]
    Truncated(u64),
    #[error("the backup file is damaged: its checksum does not match")]
    Damaged,
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub struct Writer<W: Write> {
    out: W,
    digest: Sha256,
    count: u64,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> io::Result<Self> {
        let mut writer = Self { out, digest: Sha256::new(), count: 0 };
        writer.put(MAGIC)?;
        Ok(writer)
    }

    pub fn record(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        for field in [key, value] {
            let length = u32::try_from(field.len())
                .ok()
                .filter(|&l| l < MAX_FIELD)
                .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "a record is too large for a backup"))?;
            self.put(&length.to_be_bytes())?;
            self.put(field)?;
        }
        self.count += 1;
        Ok(())
    }

    /// Writes the end mark, the count and the digest; returns the count.
    pub fn finish(mut self) -> io::Result<u64> {
        self.put(&END.to_be_bytes())?;
        let count = self.count;
        self.put(&count.to_be_bytes())?;
        let digest = self.digest.finalize();
        self.out.write_all(&digest)?;
        self.out.flush()?;
        Ok(count)
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.digest.update(bytes);
        self.out.write_all(bytes)
    }
}

/// Reads a backup, handing each record to `each`, and checks it whole. `each` sees records
/// before the check is done, so a caller that writes them must discard its work on error.
pub fn read<R: Read, E: From<BackupError>>(
    input: R,
    mut each: impl FnMut(&[u8], &[u8]) -> Result<(), E>,
) -> Result<u64, E> {
    let mut reader = Reader { input: io::BufReader::new(input), digest: Sha256::new(), count: 0 };
    let mut magic = vec![0; MAGIC.len()];
    reader.exact(&mut magic).map_err(|_| BackupError::NotABackup)?;
    if magic != MAGIC {
        return Err(BackupError::NotABackup.into());
    }
    loop {
        let length = reader.length()?;
        if length == END {
            break;
        }
        let key = reader.field(length)?;
        let length = reader.length()?;
        let value = reader.field(length)?;
        each(&key, &value)?;
        reader.count += 1;
    }
    let mut count = [0; 8];
    reader.exact(&mut count)?;
    let expected = reader.digest.finalize();
    let mut digest = [0; 32];
    reader.input.read_exact(&mut digest).map_err(|_| BackupError::Truncated(reader.count))?;
    if digest[..] != expected[..] || u64::from_be_bytes(count) != reader.count {
        return Err(BackupError::Damaged.into());
    }
    Ok(reader.count)
}

struct Reader<R: Read> {
    input: io::BufReader<R>,
    digest: Sha256,
    count: u64,
}

impl<R: Read> Reader<R> {
    fn exact(&mut self, buffer: &mut [u8]) -> Result<(), BackupError> {
        self.input.read_exact(buffer).map_err(|_| BackupError::Truncated(self.count))?;
        self.digest.update(&*buffer);
        Ok(())
    }

    fn length(&mut self) -> Result<u32, BackupError> {
        let mut length = [0; 4];
        self.exact(&mut length)?;
        Ok(u32::from_be_bytes(length))
    }

    fn field(&mut self, length: u32) -> Result<Vec<u8>, BackupError> {
        if length >= MAX_FIELD {
            return Err(BackupError::Damaged);
        }
        let mut field = vec![0; length as usize];
        self.exact(&mut field)?;
        Ok(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut writer = Writer::new(&mut bytes).unwrap();
        writer.record(b"decline:+442079460123", b"{\"company\":\"Everest\"}").unwrap();
        writer.record(b"allow:+442079460555", b"").unwrap();
        assert_eq!(writer.finish().unwrap(), 2);
        bytes
    }

    type Record = (Vec<u8>, Vec<u8>);

    fn records(bytes: &[u8]) -> Result<Vec<Record>, BackupError> {
        let mut records = Vec::new();
        read(bytes, |key, value| {
            records.push((key.to_vec(), value.to_vec()));
            Ok::<_, BackupError>(())
        })?;
        Ok(records)
    }

    #[test]
    fn records_come_back_as_they_went_in() {
        let records = records(&sample()).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].0, b"decline:+442079460123");
        assert_eq!(records[1].1, b"");
    }

    #[test]
    fn a_flipped_byte_anywhere_is_refused() {
        let bytes = sample();
        for at in MAGIC.len()..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x01;
            assert!(records(&damaged).is_err(), "a flip at byte {at} went unnoticed");
        }
    }

    #[test]
    fn a_cut_short_file_is_refused() {
        let bytes = sample();
        for length in 0..bytes.len() {
            assert!(records(&bytes[..length]).is_err(), "cut at {length} went unnoticed");
        }
    }

    #[test]
    fn another_file_is_not_a_backup() {
        assert!(matches!(records(b"PK\x03\x04 a zip file"), Err(BackupError::NotABackup)));
    }
}
