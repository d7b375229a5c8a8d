//! SOAP 1.1 handling: the safe envelope scanner, the fault table, the operation table, WSDL and
//! XSD serving, and the request pipeline that walks every request down the road of DESIGN.md.

pub mod batch;
pub mod envelope;
pub mod fault;
pub mod operation;
pub mod pipeline;
pub mod typed;
pub mod wsdl;

pub use fault::{Fault, FaultCode};
pub use operation::{Handler, Operation, Outcome, RequestCtx};
