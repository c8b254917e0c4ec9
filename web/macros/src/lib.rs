//! Procedural macros for `typhoon-web`; use them through `typhoon_web::handler`.
//!
//! [`macro@handler`] reads an `impl RequestHandler for T` block and fills in
//! `ALLOWED_METHODS` from the verb methods it defines, so that a 405 carries a correct `Allow`
//! header without a hand-kept list.
//!
//! # Examples
//!
//! The runnable example is on `typhoon_web::handler` (a proc-macro crate cannot run doctests
//! that use its own macros); `typhoon-web`'s tests check the `Allow` header over a socket.

use proc_macro::TokenStream;
use quote::quote;
use syn::{ImplItem, ItemImpl, parse_macro_input};

/// The verbs a `RequestHandler` may implement, in the order `Allow` lists them.
const VERBS: [(&str, &str); 7] = [
    ("get", "GET"),
    ("head", "HEAD"),
    ("post", "POST"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("put", "PUT"),
    ("options", "OPTIONS"),
];

/// Fills in `ALLOWED_METHODS` of an `impl RequestHandler for T` block from the verb methods
/// (`get`, `head`, `post`, `delete`, `patch`, `put`, `options`) it defines, unless the block
/// sets the constant itself. A 405 then carries `Allow` listing exactly those verbs.
///
/// Errors at compile time on anything but a trait impl.
#[proc_macro_attribute]
pub fn handler(args: TokenStream, input: TokenStream) -> TokenStream {
    if !args.is_empty() {
        let args = proc_macro2::TokenStream::from(args);
        return syn::Error::new_spanned(args, "#[handler] takes no arguments")
            .to_compile_error()
            .into();
    }
    let mut item = parse_macro_input!(input as ItemImpl);
    if item.trait_.is_none() {
        return syn::Error::new_spanned(
            &item.self_ty,
            "#[handler] goes on an `impl RequestHandler for T` block",
        )
        .to_compile_error()
        .into();
    }
    let has_own_list = item.items.iter().any(
        |entry| matches!(entry, ImplItem::Const(constant) if constant.ident == "ALLOWED_METHODS"),
    );
    if !has_own_list {
        // A verb behind `#[cfg]` may or may not exist: the macro cannot tell, so it asks.
        for entry in &item.items {
            if let ImplItem::Fn(f) = entry
                && VERBS.iter().any(|(method, _)| f.sig.ident == method)
                && f.attrs.iter().any(|attr| attr.path().is_ident("cfg"))
            {
                return syn::Error::new_spanned(
                    &f.sig.ident,
                    "#[handler] cannot see which #[cfg] verbs exist; set ALLOWED_METHODS yourself",
                )
                .to_compile_error()
                .into();
            }
        }
        let defined: Vec<&str> = VERBS
            .iter()
            .filter(|(method, _)| {
                item.items
                    .iter()
                    .any(|entry| matches!(entry, ImplItem::Fn(f) if f.sig.ident == method))
            })
            .map(|(_, verb)| *verb)
            .collect();
        let constant: ImplItem = syn::parse_quote! {
            const ALLOWED_METHODS: &'static [&'static str] = &[#(#defined),*];
        };
        item.items.insert(0, constant);
    }
    quote!(#item).into()
}
