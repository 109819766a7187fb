//! Where an owner can report a company that kept calling after it was told no, for the regions
//! whose regulators saidno knows. The evidence page names them.

use crate::domain::Region;

pub struct Regulator {
    pub name: &'static str,
    /// What it is the place for.
    pub about: &'static str,
    pub url: &'static str,
}

const GB: &[Regulator] = &[
    Regulator {
        name: "the Telephone Preference Service (TPS)",
        about: "if your number is registered with it",
        url: "https://www.tps.org.uk/",
    },
    Regulator {
        name: "the Information Commissioner's Office (ICO)",
        about: "which enforces the rules on unwanted marketing calls",
        url: "https://ico.org.uk/make-a-complaint/nuisance-calls-and-messages/",
    },
];

const US: &[Regulator] = &[
    Regulator {
        name: "the Federal Trade Commission (FTC)",
        about: "for calls to a number on the National Do Not Call Registry",
        url: "https://www.donotcall.gov/report.html",
    },
    Regulator {
        name: "the Federal Communications Commission (FCC)",
        about: "for unwanted calls and robocalls",
        url: "https://consumercomplaints.fcc.gov/",
    },
];

/// The regulators for `region`; none for a region saidno knows nothing of.
pub fn where_to_complain(region: Region) -> &'static [Regulator] {
    match region.code() {
        "GB" => GB,
        "US" => US,
        _ => &[],
    }
}
