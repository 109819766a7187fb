//! Times parsing numbers as an import of a published robocaller list pays it: N valid E.164
//! numbers of mixed countries, each through `PhoneNumber::parse_typed_full` (the `phonenumber`
//! crate's parser) and through `PhoneNumber::parse_typed` (its fast path for E.164 text), first on
//! one thread, then split over every core with `std::thread::scope`.
//!
//! `cargo run --release --example bench_parse [-- N [COUNTRIES]]`, N the number of rows (default
//! 1000000), COUNTRIES a comma-separated list of region ids or `all` (default
//! `US,GB,FR,DE,IT`). The numbers are the metadata's example fixed-line and mobile
//! numbers of those countries, the last four digits varied, kept when valid. Each path is warmed
//! up first; both must accept every number. The full parser keeps the patterns it has compiled
//! in a cache of a hundred behind one lock, so the more countries, the slower it gets: with `all`
//! it manages a few hundred rows a second, so give a smaller N.

use std::time::Instant;

use saidno::domain::{NumberError, PhoneNumber, Region};

// The server's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WARM_UP: usize = 20_000;

/// A simple generator, so runs are repeatable without a dependency.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

type Parse = fn(&str, Region, bool) -> Result<PhoneNumber, NumberError>;

const COUNTRIES: &str = "US,GB,FR,DE,IT";

fn numbers(count: usize, countries: &str, region: Region) -> Vec<String> {
    let chosen: Vec<&str> = countries.split(',').map(str::trim).collect();
    let templates: Vec<String> = phonenumber::metadata::DATABASE
        .iter()
        .filter(|meta| countries == "all" || chosen.contains(&meta.id()))
        .flat_map(|meta| {
            let d = meta.descriptors();
            [d.fixed_line(), d.mobile()]
                .into_iter()
                .flatten()
                .filter_map(|descriptor| descriptor.example())
                .filter(|example| example.len() > 4)
                .map(|example| format!("+{}{example}", meta.country_code()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(!templates.is_empty(), "COUNTRIES names known regions");
    let mut random = Lcg(42);
    let mut numbers = Vec::with_capacity(count);
    while numbers.len() < count {
        let template = &templates[random.below(templates.len())];
        let number = format!("{}{:04}", &template[..template.len() - 4], random.below(10_000));
        if PhoneNumber::parse_typed(&number, region, false).is_ok() {
            numbers.push(number);
        }
    }
    numbers
}

fn parse_all(parse: Parse, numbers: &[String], region: Region) -> usize {
    numbers.iter().filter(|number| parse(number, region, false).is_ok()).count()
}

fn run(name: &str, parse: Parse, numbers: &[String], region: Region, threads: usize) {
    parse_all(parse, &numbers[..WARM_UP.min(numbers.len())], region);
    let started = Instant::now();
    let chunk = numbers.len().div_ceil(threads);
    let accepted: usize = std::thread::scope(|scope| {
        let workers: Vec<_> =
            numbers.chunks(chunk).map(|rows| scope.spawn(move || parse_all(parse, rows, region))).collect();
        workers.into_iter().map(|worker| worker.join().expect("a worker finishes")).sum()
    });
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(accepted, numbers.len(), "{name} accepts every number");
    let rows = numbers.len();
    println!("parse {name} {threads} threads {rows} rows {seconds:.2} s {:.0} rows/s", rows as f64 / seconds);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().map_or(1_000_000, |n| n.trim().replace('_', "").parse().expect("N is a number"));
    let countries = args.next().unwrap_or_else(|| COUNTRIES.into());
    let region: Region = "GB".parse().expect("a known region");
    let started = Instant::now();
    let numbers = numbers(count, &countries, region);
    eprintln!("{count} valid numbers from {countries} generated ({:.1} s)", started.elapsed().as_secs_f64());
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    for threads in [1, cores] {
        run("full", PhoneNumber::parse_typed_full, &numbers, region, threads);
        run("fast", PhoneNumber::parse_typed, &numbers, region, threads);
    }
}
