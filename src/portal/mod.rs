//! The operator web portal: pages, sessions and the documents it hands out.
//! `pincode` makes and protects the second factor; `pdf` writes the printable letters.

pub mod pdf;
pub mod pincode;
