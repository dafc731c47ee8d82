//! Python objects ⇄ the generic config tree (`toml::Value`), keeping NaN and
//! infinities so that validation, not conversion, reports them with a path.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use toml::value::{Date, Datetime};
use toml::{Table, Value};

use crate::error::{CoreError, Result};

const MAX_DEPTH: usize = 32;
/// Most values in one config from Python: lists that share their items (`x = [x, x]`
/// twenty times) would otherwise expand to millions of values in exponential time.
const MAX_VALUES: usize = 1 << 20;

fn join(path: &str, key: &str) -> String {
    if path == "config" {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The error of an integer beyond a config integer's 64 bits, quoting it.
fn too_large(obj: &Bound<'_, PyAny>, path: &str) -> CoreError {
    let text = obj.str().map(|s| s.to_string()).unwrap_or_default();
    // (an integer of over 4,300 digits has no str: it is not quoted)
    let shown = if text.len() > 40 {
        format!(" {}…", &text[..40])
    } else if text.is_empty() {
        text
    } else {
        format!(" {text}")
    };
    CoreError::invalid(
        path,
        format!("integer{shown} does not fit in 64 bits (at most {})", i64::MAX),
    )
}

/// Convert a nested dict/list/number/str into a config tree.
pub fn py_to_value(obj: &Bound<'_, PyAny>, path: &str) -> Result<Value> {
    value_of(obj, path, 0, &mut 0)
}

/// [`py_to_value`] at nesting `depth`, with `count` values converted so far.
fn value_of(obj: &Bound<'_, PyAny>, path: &str, depth: usize, count: &mut usize) -> Result<Value> {
    if depth > MAX_DEPTH {
        return Err(CoreError::invalid(
            path,
            format!("nesting deeper than {MAX_DEPTH} levels"),
        ));
    }
    *count += 1;
    if *count > MAX_VALUES {
        return Err(CoreError::invalid(
            "config",
            format!("holds more than {MAX_VALUES} values in all (lists that share their items count each time)"),
        ));
    }
    if obj.is_instance_of::<PyBool>() {
        return Ok(Value::Boolean(obj.extract::<bool>().unwrap_or(false)));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<i64>()
            .map(Value::Integer)
            .map_err(|_| too_large(obj, path));
    }
    if obj.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(obj.extract::<f64>().unwrap_or(f64::NAN)));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return text(s, path).map(Value::String);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut t = Table::new();
        for (k, v) in d.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => text(s, path)?,
                Err(_) => return Err(CoreError::invalid(path, "dict keys must be strings")),
            };
            let child = value_of(&v, &join(path, &key), depth + 1, count)?;
            t.insert(key, child);
        }
        return Ok(Value::Table(t));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        return items_of(obj, path, depth, count, "not iterable");
    }
    // a NumPy array of one or more dimensions stands for the list of its items
    if is_instance_of(obj, "numpy", "ndarray") && !is_numpy_scalar(obj) {
        let ndim = obj.getattr("ndim").and_then(|n| n.extract::<usize>()).unwrap_or(0);
        if ndim > 0 {
            let np = obj
                .py()
                .import("numpy")
                .map_err(|_| CoreError::invalid(path, "an array whose items cannot be read"))?;
            if is_masked(obj) {
                let hidden = np
                    .getattr("ma")
                    .and_then(|ma| ma.call_method1("getmaskarray", (obj,)))
                    .and_then(|m| m.call_method0("any"))
                    .and_then(|a| a.is_truthy())
                    .unwrap_or(true);
                if hidden {
                    return Err(CoreError::invalid(
                        path,
                        "unsupported value: a masked array (values hidden by its mask)",
                    ));
                }
            }
            // a plain array of the same items: a matrix's rows would be matrices again
            let unreadable = "an array whose items cannot be read";
            let array = np
                .call_method1("asarray", (obj,))
                .map_err(|_| CoreError::invalid(path, unreadable))?;
            return items_of(&array, path, depth, count, unreadable);
        }
    }
    // a date is a TOML date
    if let Some(date) = date_of(obj, path)? {
        return Ok(Value::Datetime(date));
    }
    // NumPy scalars and other numbers (a NumPy boolean also has `__index__`)
    if is_numpy_bool(obj) {
        return Ok(Value::Boolean(obj.is_truthy().unwrap_or(false)));
    }
    // a 0-d NumPy array stands for its element, unless masked (`np.ma.masked` too)
    if let Some(kind) = zero_d_kind(obj) {
        if is_masked(obj) {
            return Err(CoreError::invalid(
                path,
                "unsupported value: a masked array (its value is hidden by its mask)",
            ));
        }
        return match kind.as_str() {
            "b" => Ok(Value::Boolean(obj.is_truthy().unwrap_or(false))),
            "i" | "u" | "f" => {
                // its NumPy scalar (`a[()]`), so that a float32 reads as one below
                let item = obj
                    .get_item(PyTuple::empty(obj.py()))
                    .map_err(|_| CoreError::invalid(path, "a 0-d array whose element cannot be read"))?;
                value_of(&item, path, depth + 1, count)
            }
            _ => Err(CoreError::invalid(
                path,
                format!("unsupported value: a 0-d array of dtype kind {kind:?}"),
            )),
        };
    }
    // other numbers only if real (a NumPy complex or a timedelta also converts to float)
    let real = is_instance_of(obj, "numbers", "Real");
    let timedelta = obj.get_type().name().is_ok_and(|n| n == "timedelta64");
    if real && !timedelta {
        if obj.hasattr("__index__").unwrap_or(false) {
            if let Ok(index) = obj.call_method0("__index__") {
                // an integer (np.uint64(2**63)) is one, whatever its size: not a float
                return index
                    .extract::<i64>()
                    .map(Value::Integer)
                    .map_err(|_| too_large(&index, path));
            }
        }
        if let Some(x) = narrow_float(obj) {
            return Ok(Value::Float(x));
        }
        if obj.hasattr("__float__").unwrap_or(false) {
            if let Ok(x) = obj.call_method0("__float__").and_then(|v| v.extract::<f64>()) {
                return Ok(Value::Float(x));
            }
        }
    }
    let tname = obj
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into());
    Err(CoreError::invalid(path, format!("unsupported value of type {tname}")))
}

/// The items of a list, tuple or array, each converted at `path[i]`; `unreadable` is
/// the error when they cannot be iterated.
fn items_of(obj: &Bound<'_, PyAny>, path: &str, depth: usize, count: &mut usize, unreadable: &str) -> Result<Value> {
    let mut out = Vec::new();
    for (i, item) in obj
        .try_iter()
        .map_err(|_| CoreError::invalid(path, unreadable))?
        .enumerate()
    {
        let item = item.map_err(|_| CoreError::invalid(path, unreadable))?;
        out.push(value_of(&item, &format!("{path}[{i}]"), depth + 1, count)?);
    }
    Ok(Value::Array(out))
}

/// A date (`datetime.date`, `datetime.datetime`, `pandas.Timestamp`, `numpy.datetime64`)
/// or a `pandas.Period` within one month, as the TOML date of its day (a period: its
/// first day), so that the config reads it wherever it reads a TOML date (`world.start`:
/// the month it lies in); None for anything else. A missing date (NaT), a period over
/// more than one month (a year, too) and a year outside 1–9999 are errors.
fn date_of(obj: &Bound<'_, PyAny>, path: &str) -> Result<Option<Datetime>> {
    let nat = || CoreError::invalid(path, "is a missing date (NaT)");
    let ymd = |date: &Bound<'_, PyAny>| {
        let field = |name: &str| date.getattr(name).and_then(|v| v.extract::<i64>()).ok();
        Some((field("year")?, field("month")?, field("day")?))
    };
    let (year, month, day) = if obj.get_type().name().is_ok_and(|n| n == "datetime64") {
        let np = obj.py().import("numpy").map_err(|_| nat())?;
        if np
            .call_method1("isnat", (obj,))
            .and_then(|b| b.is_truthy())
            .unwrap_or(true)
        {
            return Err(nat());
        }
        // a year (unit "Y") spans twelve months, as a yearly Period does
        let unit: String = obj
            .getattr("dtype")
            .and_then(|dtype| np.call_method1("datetime_data", (dtype,)))
            .and_then(|d| d.get_item(0))
            .and_then(|u| u.extract())
            .unwrap_or_default();
        if unit == "Y" {
            let shown = obj.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            return Err(CoreError::invalid(
                path,
                format!("the year {shown} spans more than one month: give one month, e.g. \"YYYY-MM\""),
            ));
        }
        // its day, as a datetime.date (an int for a year outside 1–9999)
        let day = obj
            .call_method1("astype", ("datetime64[D]",))
            .and_then(|d| d.call_method0("item"));
        match day.ok().and_then(|d| ymd(&d)) {
            Some(date) => date,
            None => return Err(CoreError::invalid(path, "a datetime64 outside the years 1–9999")),
        }
    } else if is_instance_of(obj, "pandas", "Period") {
        let ends = ["start_time", "end_time"].map(|end| obj.getattr(end).ok().and_then(|d| ymd(&d)));
        match ends {
            [Some(first), Some(last)] if (first.0, first.1) == (last.0, last.1) => first,
            [Some(_), Some(_)] => {
                let shown = obj.str().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                return Err(CoreError::invalid(
                    path,
                    format!("the period {shown} spans more than one month: give one month, e.g. \"YYYY-MM\""),
                ));
            }
            _ => return Err(nat()),
        }
    } else if is_instance_of(obj, "datetime", "date") {
        ymd(obj).ok_or_else(nat)?
    } else {
        return Ok(None);
    };
    let date = Date {
        year: u16::try_from(year).map_err(|_| CoreError::invalid(path, "a date outside the years 1–9999"))?,
        month: month as u8,
        day: day as u8,
    };
    Ok(Some(Datetime {
        date: Some(date),
        time: None,
        offset: None,
    }))
}

/// A NumPy float16 or float32 scalar as the decimal it prints as (float32 0.2 is 0.2,
/// not 0.2000000030): the value written, as for a level in Python (`_validate.level`).
fn narrow_float(obj: &Bound<'_, PyAny>) -> Option<f64> {
    if !is_numpy_scalar(obj) {
        return None;
    }
    let dtype = obj.getattr("dtype").ok()?;
    let kind: String = dtype.getattr("kind").ok()?.extract().ok()?;
    let size: usize = dtype.getattr("itemsize").ok()?.extract().ok()?;
    if kind != "f" || size >= 8 {
        return None;
    }
    obj.str().ok()?.to_str().ok()?.parse::<f64>().ok()
}

/// A Python string as Rust text; a lone surrogate (not encodable as UTF-8) is an error.
fn text(s: &Bound<'_, PyString>, path: &str) -> Result<String> {
    s.to_str().map(str::to_owned).map_err(|_| {
        let shown = s.repr().map(|r| r.to_string_lossy().into_owned()).unwrap_or_default();
        CoreError::invalid(path, format!("{shown} is not valid Unicode text (a lone surrogate)"))
    })
}

/// The dtype kind (`"f"`, `"i"`, ...) of a 0-d NumPy array, or None for anything else.
fn zero_d_kind(obj: &Bound<'_, PyAny>) -> Option<String> {
    let ndim = obj.getattr("ndim").ok()?.extract::<usize>().ok()?;
    if ndim != 0 || is_numpy_scalar(obj) {
        return None;
    }
    obj.getattr("dtype")
        .ok()?
        .getattr("kind")
        .ok()?
        .extract::<String>()
        .ok()
}

/// Whether `obj` is an instance of class `class` of module `module` (false if either
/// cannot be imported).
fn is_instance_of(obj: &Bound<'_, PyAny>, module: &str, class: &str) -> bool {
    obj.py()
        .import(module)
        .and_then(|m| m.getattr(class))
        .and_then(|c| obj.is_instance(&c))
        .unwrap_or(false)
}

/// Whether `obj` is a NumPy scalar (`np.float64(1.0)`, ...), which has `ndim` 0 too.
fn is_numpy_scalar(obj: &Bound<'_, PyAny>) -> bool {
    is_instance_of(obj, "numpy", "generic")
}

/// Whether `obj` is a NumPy masked array (`numpy.ma.MaskedArray`, `numpy.ma.masked`).
fn is_masked(obj: &Bound<'_, PyAny>) -> bool {
    is_instance_of(obj, "numpy.ma", "MaskedArray")
}

/// NumPy's boolean scalar (`numpy.bool` or `numpy.bool_`): a boolean, not the
/// integer 0 or 1 its `__index__` gives.
fn is_numpy_bool(obj: &Bound<'_, PyAny>) -> bool {
    let ty = obj.get_type();
    let named = |attr: &str, want: &[&str]| {
        ty.getattr(attr)
            .and_then(|v| v.extract::<String>())
            .is_ok_and(|v| want.contains(&v.as_str()))
    };
    named("__module__", &["numpy"]) && named("__name__", &["bool", "bool_"])
}

/// Convert a config tree into nested dicts and lists.
pub fn value_to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Integer(i) => i.into_pyobject(py)?.into_any(),
        Value::Float(x) => x.into_pyobject(py)?.into_any(),
        Value::Boolean(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Datetime(d) => d.to_string().into_pyobject(py)?.into_any(),
        Value::Array(a) => {
            let items: Vec<Bound<'py, PyAny>> = a.iter().map(|x| value_to_py(py, x)).collect::<PyResult<_>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Table(t) => {
            let d = PyDict::new(py);
            for (k, x) in t {
                d.set_item(k, value_to_py(py, x)?)?;
            }
            d.into_any()
        }
    })
}
