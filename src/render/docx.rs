use super::RenderError;
use crate::domain::agreement::document::Document;
pub fn render(doc: &Document) -> Result<Vec<u8>, RenderError> {
    Ok(doc.plain_text().into_bytes())
}
