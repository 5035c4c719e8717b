//! Masking of personal data for display (SPEC C3, C10): citizen ID numbers and phone numbers are
//! shown with their middle digits replaced by `*` to every role without the right to see them.

/// Masks a citizen ID number, keeping the first 4 characters (province and city of issue) and
/// the last 4 (the end of the sequence code and the check character): an 18-character number
/// `630121199001011234` becomes `6301**********1234` (10 stars). A 15-digit legacy number keeps
/// 4 + 3. Anything shorter than 8 characters is replaced entirely, so nothing identifying leaks.
///
/// ```
/// assert_eq!(ringline_core::mask::mask_id_number("63012119900101123X"), "6301**********123X");
/// assert_eq!(ringline_core::mask::mask_phone("13812345678"), "138****5678");
/// ```
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    let (head, tail) = match chars.len() {
        18 => (4, 4),
        15 => (4, 3),
        n if n >= 8 => (2, 2),
        n => return "*".repeat(n.max(1)),
    };
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// Masks a phone number, keeping the first 3 and last 4 digits of an 11-digit mobile number
/// (`13812345678` → `138****5678`); other numbers keep only their last 2 characters.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.trim().chars().collect();
    match chars.len() {
        11 => {
            let mut out: String = chars[..3].iter().collect();
            out.push_str("****");
            out.extend(&chars[7..]);
            out
        }
        n if n > 2 => {
            let mut out = "*".repeat(n - 2);
            out.extend(&chars[n - 2..]);
            out
        }
        n => "*".repeat(n.max(1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers() {
        // SPEC C3's example shape: 6301**********123X.
        assert_eq!(mask_id_number("63012119900101123X"), "6301**********123X");
        assert_eq!(mask_id_number("630121900101123"), "6301********123");
        assert_eq!(mask_id_number("12345678"), "12****78");
        assert_eq!(mask_id_number("1234"), "****");
        assert_eq!(mask_id_number(""), "*");
    }

    #[test]
    fn phones() {
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("0971-5512345"), "**********45");
        assert_eq!(mask_phone("12"), "**");
    }

    #[test]
    fn masked_output_never_contains_the_middle() {
        let id = "630121199001011234";
        let m = mask_id_number(id);
        assert!(!m.contains("19900101"));
        assert_eq!(m.chars().count(), id.len());
    }
}
