//! How the pages write a moment: to the minute, in the business's time zone.

use jiff::Timestamp;
use jiff::tz::TimeZone;

pub fn local_time(at: Timestamp, time_zone: &TimeZone) -> String {
    at.to_zoned_datetime(time_zone.clone()).strftime("%Y-%m-%d %H:%M").to_string()
}
