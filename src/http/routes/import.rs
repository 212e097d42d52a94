//! `POST /api/import`: a CSV file of expenses in the export's columns (`service::import`).

use super::MonthQuery;
use crate::auth::FamilyMember;
use crate::error::ApiResult;
use crate::service::import::{self, Outcome};
use crate::state::AppState;
use app::model::{ErrorBody, ErrorDetail, ImportRefused, ImportResult};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[utoipa::path(post, path = "/api/import", tag = "budget",
    params(
        ("dry_run" = Option<bool>, Query, description = "true: read and check the file, save nothing"),
        ("include_duplicates" = Option<bool>, Query, description = "true: save the rows marked duplicate too"),
        ("key" = Option<String>, Query, format = Uuid, description = "The client's id for this import: sent again with the same key, it saves nothing twice"),
        ("map[name]" = Option<String>, Query, description = "The family's category id for a category name of the file (one parameter per name)")),
    request_body(content = String, content_type = "text/csv",
        description = "A header row naming date, category and amount (currency, note and member may be there too, in any order), then one expense per line; at most 2 MiB and 10,000 lines"),
    responses(
        (status = 200, description = "Every line as understood and how many expenses were saved (none in a dry run; duplicates left out unless asked for)", body = ImportResult),
        (status = 413, description = "Over 2 MiB", body = ErrorBody),
        (status = 422, description = "A bad line (named in the message) or a bad parameter: nothing was saved", body = ImportRefused)))]
pub async fn upload(
    State(state): State<AppState>,
    member: FamilyMember,
    query: MonthQuery,
    request: Request,
) -> ApiResult<Response> {
    let options = import::options(query.pairs())?;
    let body = crate::http::json::body(request, &state, import::MAX_BYTES).await?;
    Ok(
        match import::import(&state, &member, &body, options).await? {
            Outcome::Done { rows, imported } => {
                Json(ImportResult { rows, imported }).into_response()
            }
            Outcome::Refused { message, rows } => {
                let error = ErrorDetail {
                    code: "invalid_import".into(),
                    message,
                };
                let refused = ImportRefused { error, rows };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(refused)).into_response()
            }
        },
    )
}
