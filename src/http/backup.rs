//! `GET /api/v1/backup`: a consistent copy of the database, streamed as it is read.

use std::io::{self, Write};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::sync::mpsc;

use super::AppState;

/// How much of the backup is held before it is handed to the response.
const CHUNK: usize = 256 * 1024;

pub async fn backup(State(state): State<AppState>) -> Response {
    let (chunks, received) = mpsc::channel::<io::Result<Bytes>>(8);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter { chunk: Vec::with_capacity(CHUNK), chunks: chunks.clone() };
        match store.backup(&mut out) {
            Ok(count) => tracing::info!(count, "backup taken"),
            Err(error) => {
                tracing::error!(%error, "the backup failed");
                // An error in the stream cuts the response short, so the client never mistakes
                // half a backup for a whole one (the file's checksum would also say so).
                let _ = chunks.blocking_send(Err(io::Error::other(error.to_string())));
            }
        }
    });
    let stream = futures_util::stream::unfold(received, |mut received| async move {
        received.recv().await.map(|chunk| (chunk, received))
    });
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"saidno.backup\""),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

struct ChunkWriter {
    chunk: Vec<u8>,
    chunks: mpsc::Sender<io::Result<Bytes>>,
}

impl ChunkWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK)));
        self.chunks.blocking_send(Ok(chunk)).map_err(|_| io::Error::other("the client went away"))
    }
}

impl Write for ChunkWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.chunk.extend_from_slice(bytes);
        if self.chunk.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}
