//! Free text the owner types (company names, notes): tidied and bounded before it is stored.

/// Why a piece of free text was refused; `field` names the input so an error can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is too long: {length} characters, at most {max}")]
pub struct TextTooLong {
    pub field: &'static str,
    pub length: usize,
    pub max: usize,
}

/// Trims, folds runs of white space (and control characters) into one space, and turns an
/// empty result into `None`, so "Everest  Windows " and "Everest Windows" are the same name.
pub fn tidy(field: &'static str, text: Option<&str>, max: usize) -> Result<Option<String>, TextTooLong> {
    let Some(text) = text else { return Ok(None) };
    let folded = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let length = folded.chars().count();
    if length > max {
        return Err(TextTooLong { field, length, max });
    }
    Ok((!folded.is_empty()).then_some(folded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spacing_and_control_characters_are_folded() {
        assert_eq!(tidy("company", Some("  Everest \t Windows\n\0"), 50).unwrap().as_deref(), Some("Everest Windows"));
    }

    #[test]
    fn blank_text_is_no_text() {
        assert_eq!(tidy("note", Some("   "), 50).unwrap(), None);
        assert_eq!(tidy("note", None, 50).unwrap(), None);
    }

    #[test]
    fn text_over_the_limit_names_its_field() {
        let err = tidy("company", Some(&"x".repeat(11)), 10).unwrap_err();
        assert_eq!(err.field, "company");
        assert!(err.to_string().contains("11 characters"));
    }
}
