//! The declines CSV import: any bytes are imported or refused with a reason, never a panic, and an
//! import reported as failed leaves the declines exactly as they were.
#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use saidno::config::Settings;
use saidno::service::{Format, NewDecline, Service};
use saidno::store::MemoryStore;

/// One runtime for every input: the service is async, and an import reads its rows on the
/// runtime's blocking pool.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}

fuzz_target!(|data: &[u8]| {
    // The first byte chooses whether the good rows alone are taken; the rest is the file.
    let Some((&flags, file)) = data.split_first() else { return };
    let skip_bad_rows = flags & 1 == 1;
    let text = String::from_utf8_lossy(file).into_owned();
    runtime().block_on(import(text, skip_bad_rows));
});

async fn import(text: String, skip_bad_rows: bool) {
    let service = Service::open(Arc::new(MemoryStore::default()), Arc::new(Settings::defaults())).expect("opens");
    let existing = NewDecline { number: "+442079460123".into(), company: Some("Everest".into()), ..Default::default() };
    service.decline(existing, jiff::Timestamp::UNIX_EPOCH).await.expect("a valid decline is saved");
    let before = service.export_declines(Format::Json).await.expect("exports");

    match service.import_declines(text, Format::Csv, skip_bad_rows).await {
        Ok(report) => {
            let after = service.declines().await.expect("lists").len();
            assert!(after <= 1 + report.imported, "{after} declines after importing {}", report.imported);
            assert!(report.imported > 0 || after == 1, "an empty import changed the declines");
            // What was imported exports and imports back unchanged.
            let exported = service.export_declines(Format::Csv).await.expect("exports");
            let again = service.import_declines(exported.clone(), Format::Csv, false).await;
            assert!(again.is_ok() || exported.is_empty(), "the export does not import back: {again:?}");
        }
        Err(_) => {
            let after = service.export_declines(Format::Json).await.expect("exports");
            assert_eq!(before, after, "a failed import changed the declines");
        }
    }
}
