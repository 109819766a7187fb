#![forbid(unsafe_code)]

pub mod answer;
pub mod backup;
pub mod call_log;
pub mod cli;
pub mod config;
pub mod doctor;
pub mod domain;
pub mod hosting;
pub mod http;
pub mod live;
pub mod matcher;
pub mod metrics;
pub mod notify;
pub mod policy;
pub mod provider;
pub mod remote;
pub mod retention;
pub mod runtime;
pub mod service;
pub mod speech;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod tls;
pub mod when;
