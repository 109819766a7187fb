//! The operator's work on the businesses a deployment serves and their lines, one door for the
//! command line and the operator's API, so a business is added or refused the same either way.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::ServiceError;
use crate::config::{ConfigError, Loaded, Settings};
use crate::domain::{Business, BusinessId, BusinessName, Line, PhoneNumber, Region};
use crate::runtime::unguessable_token;
use crate::store::{Businesses, NewBusiness, StoreError};

/// A business as the operator sees it: its name, its own settings and its lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BusinessSummary {
    pub name: String,
    /// Its own settings, TOML in the configuration file's keys, laid over the deployment's.
    pub settings: String,
    /// The numbers callers dial to reach it, in E.164.
    pub lines: Vec<String>,
    /// Whether it has an admin API token (the token itself is shown only when issued).
    pub has_token: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A business with the admin API token just issued to it: shown this once, kept only as a digest.
#[derive(Clone, Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub business: BusinessSummary,
    pub token: String,
}

/// A number callers dial and the business it brings calls to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineSummary {
    /// In E.164.
    pub number: String,
    pub business: String,
}

/// The operator's service over the deployment's businesses, checking each business's settings
/// against the deployment's configuration as they will be read.
#[derive(Clone)]
pub struct Operator {
    businesses: Arc<dyn Businesses>,
    configuration: Arc<Loaded>,
    /// Numbers written without `+` are read as the deployment's region writes them.
    region: Region,
}

impl Operator {
    pub fn new(businesses: Arc<dyn Businesses>, configuration: Arc<Loaded>) -> Result<Self, ConfigError> {
        let region = configuration.settings()?.region;
        Ok(Self { businesses, configuration, region })
    }

    /// The same businesses, their settings checked against a reloaded configuration.
    pub fn reconfigured(&self, configuration: Arc<Loaded>) -> Result<Self, ConfigError> {
        Self::new(self.businesses.clone(), configuration)
    }

    /// Adds a business with `settings` (checked) and issues its admin API token.
    pub async fn add(&self, name: &str, settings: &str) -> Result<IssuedToken, ServiceError> {
        let name = parse_name(name)?;
        self.check_settings(settings)?;
        let token = unguessable_token();
        let new = NewBusiness { name, settings: settings.to_owned(), token_sha256: Some(token_sha256(&token)) };
        let business = self.businesses.add_business(new).await.map_err(|error| refused("name", error))?;
        Ok(IssuedToken { business: summary(business, &[]), token })
    }

    /// Every business, the default one first, each with its lines.
    pub async fn list(&self) -> Result<Vec<BusinessSummary>, ServiceError> {
        let (businesses, lines) = (self.businesses.businesses().await?, self.businesses.lines().await?);
        Ok(businesses.into_iter().map(|business| summary(business, &lines)).collect())
    }

    pub async fn show(&self, name: &str) -> Result<BusinessSummary, ServiceError> {
        let business = self.named(name).await?;
        Ok(summary(business, &self.businesses.lines().await?))
    }

    /// Replaces a business's own settings with `settings`, checked first: refused, nothing changes.
    pub async fn replace_settings(&self, name: &str, settings: &str) -> Result<BusinessSummary, ServiceError> {
        let mut business = self.named(name).await?;
        self.check_settings(settings)?;
        business.settings = settings.to_owned();
        self.businesses.update_business(business.clone()).await.map_err(|error| refused("name", error))?;
        Ok(summary(business, &self.businesses.lines().await?))
    }

    /// Issues a business a new admin API token; the one it had stops working.
    pub async fn issue_token(&self, name: &str) -> Result<IssuedToken, ServiceError> {
        let mut business = self.named(name).await?;
        let token = unguessable_token();
        business.token_sha256 = Some(token_sha256(&token));
        self.businesses.update_business(business.clone()).await.map_err(|error| refused("name", error))?;
        Ok(IssuedToken { business: summary(business, &self.businesses.lines().await?), token })
    }

    /// Removes a business with its lines and every record it has; the default one stays.
    pub async fn remove(&self, name: &str) -> Result<BusinessSummary, ServiceError> {
        let business = self.named(name).await?;
        let lines = self.businesses.lines().await?;
        match self.businesses.remove_business(business.id).await.map_err(|error| refused("name", error))? {
            Some(removed) => Ok(summary(removed, &lines)),
            None => Err(no_business(name)),
        }
    }

    /// Makes `number` (as dialled, or in E.164) a line of the business called `business`.
    /// Adding a business's own line again changes nothing; another business's is refused.
    pub async fn add_line(&self, number: &str, business: &str) -> Result<LineSummary, ServiceError> {
        let number = self.parse_number(number)?;
        let business = self.named(business).await?;
        let line = Line { number: number.clone(), business: business.id };
        match self.businesses.add_line(line).await {
            Ok(()) => Ok(LineSummary { number: number.as_str().to_owned(), business: business.name.to_string() }),
            Err(StoreError::Conflict(message)) => {
                let lines = self.businesses.lines().await?;
                let holder = lines.iter().find(|line| line.number == number).map(|line| line.business);
                let message = match holder {
                    Some(id) => match self.businesses.business(id).await? {
                        Some(holder) => format!("{} is already a line of {}", number.as_str(), holder.name),
                        None => message,
                    },
                    None => message,
                };
                Err(ServiceError::Invalid { field: "number", message })
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn remove_line(&self, number: &str) -> Result<LineSummary, ServiceError> {
        let number = self.parse_number(number)?;
        let Some(line) = self.businesses.remove_line(&number).await? else {
            return Err(ServiceError::NotFound(format!("{} is not a line of any business", number.as_str())));
        };
        let business = self.businesses.business(line.business).await?;
        Ok(LineSummary {
            number: line.number.as_str().to_owned(),
            business: business.map(|business| business.name.to_string()).unwrap_or_default(),
        })
    }

    /// Every line, by number.
    pub async fn lines(&self) -> Result<Vec<LineSummary>, ServiceError> {
        let (businesses, lines) = (self.businesses.businesses().await?, self.businesses.lines().await?);
        let name_of = |id: BusinessId| {
            businesses.iter().find(|business| business.id == id).map(|business| business.name.to_string())
        };
        Ok(lines
            .iter()
            .map(|line| LineSummary {
                number: line.number.as_str().to_owned(),
                business: name_of(line.business).unwrap_or_default(),
            })
            .collect())
    }

    /// The settings of the business called `name`: its own over the deployment's.
    pub async fn settings_of(&self, name: &str) -> Result<(Business, Settings), ServiceError> {
        let business = self.named(name).await?;
        let settings = self.configuration.for_business(&business.settings).map_err(invalid_settings)?;
        Ok((business, settings))
    }

    async fn named(&self, name: &str) -> Result<Business, ServiceError> {
        let name = parse_name(name)?;
        self.businesses.business_named(&name).await?.ok_or_else(|| no_business(name.as_str()))
    }

    fn check_settings(&self, settings: &str) -> Result<(), ServiceError> {
        self.configuration.for_business(settings).map(drop).map_err(invalid_settings)
    }

    fn parse_number(&self, number: &str) -> Result<PhoneNumber, ServiceError> {
        PhoneNumber::parse_typed(number, self.region, false)
            .map_err(|error| ServiceError::Invalid { field: "number", message: error.to_string() })
    }
}

/// The SHA-256 of a token, in lower-case hex, as a business's token is kept.
pub fn token_sha256(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
}

fn parse_name(name: &str) -> Result<BusinessName, ServiceError> {
    BusinessName::parse(name)
        .map_err(|message| ServiceError::Invalid { field: "name", message: format!("{name:?} {message}") })
}

fn no_business(name: &str) -> ServiceError {
    ServiceError::NotFound(format!("no business called {name:?}"))
}

fn invalid_settings(error: ConfigError) -> ServiceError {
    ServiceError::Invalid { field: "settings", message: error.to_string() }
}

/// A change the store would not make because it takes what is another's (a name, a line) or
/// would remove the default business: said as bad input about `field`.
fn refused(field: &'static str, error: StoreError) -> ServiceError {
    match error {
        StoreError::Conflict(message) => ServiceError::Invalid { field, message },
        error => error.into(),
    }
}

fn summary(business: Business, lines: &[Line]) -> BusinessSummary {
    BusinessSummary {
        lines: lines
            .iter()
            .filter(|line| line.business == business.id)
            .map(|line| line.number.as_str().to_owned())
            .collect(),
        name: business.name.to_string(),
        settings: business.settings,
        has_token: business.token_sha256.is_some(),
        created_at: business.created_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryBusinesses;

    fn operator() -> Operator {
        let businesses = Arc::new(MemoryBusinesses::new(Arc::default()));
        Operator::new(businesses, Arc::new(Loaded::defaults())).unwrap()
    }

    fn field(error: ServiceError) -> &'static str {
        match error {
            ServiceError::Invalid { field, .. } => field,
            other => panic!("not refused as bad input: {other}"),
        }
    }

    #[tokio::test]
    async fn an_added_business_gets_a_token_shown_once_and_kept_as_its_digest() {
        let operator = operator();
        let issued = operator.add("acme", "business_name = \"Acme\"\n").await.unwrap();
        assert_eq!(URL_SAFE_TOKEN_LEN, issued.token.len());
        assert!(issued.business.has_token);
        let kept = operator.businesses.business_named(&BusinessName::parse("acme").unwrap()).await.unwrap().unwrap();
        assert_eq!(kept.token_sha256, Some(token_sha256(&issued.token)));
        assert_ne!(kept.token_sha256.as_deref(), Some(issued.token.as_str()));
        let names: Vec<String> = operator.list().await.unwrap().into_iter().map(|business| business.name).collect();
        assert_eq!(names, ["default", "acme"]);
        let renewed = operator.issue_token("acme").await.unwrap();
        assert_ne!(renewed.token, issued.token);
        let kept = operator.businesses.business(kept.id).await.unwrap().unwrap();
        assert_eq!(kept.token_sha256, Some(token_sha256(&renewed.token)));
    }

    /// 32 bytes, base64url without padding.
    const URL_SAFE_TOKEN_LEN: usize = 43;

    #[tokio::test]
    async fn a_bad_name_settings_of_the_deployment_or_a_taken_name_change_nothing() {
        let operator = operator();
        assert_eq!(field(operator.add("Acme Plumbing", "").await.unwrap_err()), "name");
        assert_eq!(field(operator.add("acme", "listen = \"0.0.0.0:80\"\n").await.unwrap_err()), "settings");
        assert_eq!(field(operator.add("acme", "[forward]\nring_timeout = 3\n").await.unwrap_err()), "settings");
        assert_eq!(operator.list().await.unwrap().len(), 1);
        operator.add("acme", "").await.unwrap();
        assert_eq!(field(operator.add("acme", "").await.unwrap_err()), "name");
        let error = operator.replace_settings("acme", "[hours]\nmonday = \"17:00-09:00\"\n").await.unwrap_err();
        assert_eq!(field(error), "settings");
        assert_eq!(operator.show("acme").await.unwrap().settings, "");
        let settings = "[hours]\nenabled = true\n";
        assert_eq!(operator.replace_settings("acme", settings).await.unwrap().settings, settings);
        assert!(operator.settings_of("acme").await.unwrap().1.hours.enabled);
        assert!(matches!(operator.show("nobody").await, Err(ServiceError::NotFound(_))));
    }

    #[tokio::test]
    async fn a_line_is_one_business_s_and_goes_with_it_when_it_is_removed() {
        let operator = operator();
        operator.add("acme", "").await.unwrap();
        operator.add("bolt", "").await.unwrap();
        let added = operator.add_line("020 7946 0123", "acme").await.unwrap();
        assert_eq!(added, LineSummary { number: "+442079460123".into(), business: "acme".into() });
        operator.add_line("+442079460123", "acme").await.unwrap();
        let error = operator.add_line("+44 20 7946 0123", "bolt").await.unwrap_err();
        assert_eq!(error.to_string(), "number: +442079460123 is already a line of acme");
        assert_eq!(field(operator.add_line("0800 FLOWERS", "acme").await.unwrap_err()), "number");
        assert_eq!(field(operator.add_line("01632 960123", "acme").await.unwrap_err()), "number");
        assert!(matches!(operator.add_line("020 7946 0999", "nobody").await, Err(ServiceError::NotFound(_))));
        assert_eq!(operator.show("acme").await.unwrap().lines, ["+442079460123"]);
        assert_eq!(operator.lines().await.unwrap(), std::slice::from_ref(&added));
        operator.remove("acme").await.unwrap();
        assert!(operator.lines().await.unwrap().is_empty());
        assert_eq!(field(operator.remove("default").await.unwrap_err()), "name");
        operator.add_line("020 7946 0123", "bolt").await.unwrap();
        assert_eq!(operator.remove_line("+442079460123").await.unwrap().business, "bolt");
        assert!(matches!(operator.remove_line("+442079460123").await, Err(ServiceError::NotFound(_))));
    }
}
