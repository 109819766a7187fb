//! The owner's text commands: any message is a command or a refusal with a reason, never a panic,
//! and what is taken stays within the bounds the replies promise.
#![no_main]

use jiff::Timestamp;
use jiff::tz::TimeZone;
use libfuzzer_sys::fuzz_target;
use saidno::remote::command::{Command, LISTED, Whom, parse};

fuzz_target!(|message: &str| {
    let Ok(command) = parse(message) else { return };
    match command {
        Command::Decline { target: Whom::Code(code), .. } => assert!((1..=LISTED).contains(&code)),
        Command::Decline { target: Whom::Number(number), .. } | Command::Allow { number, .. }
            if number.bytes().filter(u8::is_ascii_digit).count() < 7 =>
        {
            panic!("{number:?} was taken as a number")
        }
        Command::Allow { window, .. } => {
            let now: Timestamp = "2026-11-25T13:00:00Z".parse().unwrap();
            for zone in ["Europe/London", "America/New_York", "Pacific/Kiritimati"] {
                let _ = window.resolve(now, &TimeZone::get(zone).unwrap());
            }
        }
        _ => {}
    }
});
