//! Logging to standard error, filtered by `RUST_LOG` (default: `info` for the server, `warn`
//! otherwise), as text for a person or as one JSON object a line for a log shipper.

use std::fmt;
use std::io::IsTerminal;

use serde_json::Value;
use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::config::LogFormat;

pub fn init(default_level: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).try_init(),
        LogFormat::Json => {
            let json = tracing_subscriber::fmt::format()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true);
            builder.fmt_fields(JsonFields::new()).event_format(SpanFieldsOnTop(json)).try_init()
        }
    };
}

/// What every line logged while handling a request about a call is logged within: its `call_id`
/// (the provider's id for the call, under a name that is the same whatever the provider) is on each line.
/// At error level, so that it is there whatever `RUST_LOG` lets through: an error about a call
/// that does not say which call is of little use.
pub fn call_span(call_id: &str) -> tracing::Span {
    tracing::error_span!("call", call_id = call_id)
}

/// tracing-subscriber's JSON line, with the fields of the spans the event is in lifted beside its
/// own, so that a log shipper finds `call_id` at the top of every line about a call rather than
/// inside a list of spans. The event's own fields win over a span's, an inner span's over an outer.
struct SpanFieldsOnTop<F>(F);

impl<S, N, F> FormatEvent<S, N> for SpanFieldsOnTop<F>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&line) else {
            return writer.write_str(&line);
        };
        if let Some(Value::Array(spans)) = object.remove("spans") {
            for span in spans.into_iter().rev() {
                let Value::Object(fields) = span else { continue };
                for (name, value) in fields.into_iter().filter(|(name, _)| name != "name") {
                    object.entry(name).or_insert(value);
                }
            }
        }
        writeln!(writer, "{}", Value::Object(object))
    }
}
