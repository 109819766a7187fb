//! Who last changed one of the owner's settings, and when: the settings page shows it beside the
//! setting, so that a switch found in an unexpected state can be traced.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::Channel;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SettingChange {
    /// Where the change was made: the web page, the API, the command line.
    pub by: Channel,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}
