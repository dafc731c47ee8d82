//! CoreError → Python exception. The classes live in `geoscenario/errors.py`
//! so that they can inherit from both the package base class and the
//! matching built-in (`ValueError`, `MemoryError`, `ArithmeticError`).

use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError};
use pyo3::prelude::*;

use crate::error::CoreError;

pub fn to_pyerr(py: Python<'_>, e: CoreError) -> PyErr {
    let (class, path) = match &e {
        CoreError::Invalid { path, .. } => ("ConfigError", Some(path.clone())),
        CoreError::Resource { .. } => ("ResourceError", None),
        CoreError::Numerical(_) => ("NumericalError", None),
        CoreError::Cancelled => return PyKeyboardInterrupt::new_err("interrupted"),
    };
    let build = || -> PyResult<PyErr> {
        let module = py.import("geoscenario.errors")?;
        let exc = module.getattr(class)?.call1((e.to_string(),))?;
        if let Some(p) = path {
            exc.setattr("path", p)?;
        }
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|_| PyRuntimeError::new_err(e.to_string()))
}
