//! The OpenAPI description's frame: title, server prefix and the bearer scheme. The paths come
//! from the handlers themselves (see `router::api_router`).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(title = "saidno admin API", description = "Declines, allows, the call log, companies and their evidence."),
    servers((url = "/api/v1")),
    modifiers(&BearerToken),
    security(("admin_token" = []))
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        // The operator's routes (`/operator/...`) take this one instead: `[admin] operator_token`.
        components.add_security_scheme(
            "operator_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}
