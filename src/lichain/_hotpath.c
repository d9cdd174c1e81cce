/* The canonical payload of lots, runs and shipments in compiled code: byte for byte what
 * lichain.core.fastcodec writes (and so what lichain.core.codec.canonical_payload writes).
 *
 * Why this exists: writing the payload text is the largest single stage of bulk ingest in Python (about 12 µs per
 * event on the demo chain: one escaped string per field, one f-string per item). Here the text is written once into
 * one buffer. The writer declines (returns None) whenever a value is not of the plain type the ledger's model
 * gives it (a str subclass is accepted as the JSON encoder accepts it; an int must be an exact int within 64 bits,
 * a time an exact datetime in UTC, a container a tuple, list or dict), when a text cannot be encoded (a lone
 * surrogate), or for an economic allocation; the Python writer then decides, so nothing unusual is ever guessed.
 * Decimal quantities are formatted by the codec's own Python converter, passed in by setup().
 *
 * Property tests: tests/unit/test_fastcodec.py (compiled, Python and reference writers give the same bytes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t n, cap;
    char stack[4096];
} Buf;

static PyObject *LotType, *RunType, *ShipmentType, *Utc, *DecFunc, *DecimalType;
static PyObject *s_activity, *s_assay, *s_assay_lab, *s_assay_method, *s_id, *s_mass_mg, *s_material,
    *s_origin, *s_produced_at, *s_quality, *s_site, *s_electricity, *s_fuels, *s_reagents, *s_readings,
    *s_water_m3, *s_process_kg_co2e, *s_factor_key, *s_instrument, *s_kwh, *s_source, *s_kind, *s_mj, *s_name,
    *s_kg, *s_allocation, *s_inputs, *s_outputs, *s_losses_mg, *s_lot, *s_ended_at, *s_started_at,
    *s_distance_km, *s_from_site, *s_to_site, *s_mode, *s_shipped_at, *s_to_organisation, *s_is_empty, *s_mass;

static void buf_init(Buf *b) { b->p = b->stack; b->n = 0; b->cap = (Py_ssize_t)sizeof(b->stack); }
static void buf_free(Buf *b) { if (b->p != b->stack) PyMem_Free(b->p); }

static int buf_grow(Buf *b, Py_ssize_t need) {
    Py_ssize_t cap = b->cap;
    while (cap < b->n + need) cap *= 2;
    char *p;
    if (b->p == b->stack) {
        p = PyMem_Malloc((size_t)cap);
        if (p) memcpy(p, b->stack, (size_t)b->n);
    } else {
        p = PyMem_Realloc(b->p, (size_t)cap);
    }
    if (!p) { PyErr_NoMemory(); return -1; }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int put(Buf *b, const char *s, Py_ssize_t n) {
    if (b->n + n > b->cap && buf_grow(b, n) < 0) return -1;
    memcpy(b->p + b->n, s, (size_t)n);
    b->n += n;
    return 0;
}

#define LIT(b, s) put((b), (s), (Py_ssize_t)(sizeof(s) - 1))
#define TRY(x) do { if ((x) < 0) return -1; } while (0)

/* A JSON string as json.encoder.encode_basestring writes it (non-ASCII kept; ", \ and controls escaped). */
static int put_esc(Buf *b, PyObject *s) {
    if (!PyUnicode_Check(s)) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) return -1;
    /* worst case 6 bytes per input byte, plus the quotes */
    if (b->n + 6 * n + 2 > b->cap && buf_grow(b, 6 * n + 2) < 0) return -1;
    char *o = b->p + b->n;
    *o++ = '"';
    static const char hex[] = "0123456789abcdef";
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)u[i];
        if (c >= 0x20 && c != '"' && c != '\\') { *o++ = (char)c; continue; }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\b': *o++ = 'b'; break;
        case '\f': *o++ = 'f'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u'; *o++ = '0'; *o++ = '0'; *o++ = hex[c >> 4]; *o++ = hex[c & 15];
        }
    }
    *o++ = '"';
    b->n = o - b->p;
    return 0;
}

/* digits of v >= 0 */
static int put_u64(Buf *b, unsigned long long v) {
    char t[24];
    int k = 24;
    do { t[--k] = (char)('0' + v % 10); v /= 10; } while (v);
    return put(b, t + k, 24 - k);
}

/* q, then "." and the `width` digits of r without trailing zeros when r > 0 */
static int put_fixed(Buf *b, unsigned long long q, unsigned long long r, int width) {
    TRY(put_u64(b, q));
    if (!r) return 0;
    char t[12];
    for (int k = width - 1; k >= 0; k--) { t[k] = (char)('0' + r % 10); r /= 10; }
    int end = width;
    while (end > 0 && t[end - 1] == '0') end--;
    TRY(LIT(b, "."));
    return put(b, t, end);
}

/* an exact int of mg as exact kg text (the codec's _mg_kg) */
static int put_kg(Buf *b, PyObject *mg) {
    if (!PyLong_CheckExact(mg)) return -1;
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(mg, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred()) || v == LLONG_MIN) return -1;
    unsigned long long a = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
    if (v < 0) TRY(LIT(b, "-"));
    return put_fixed(b, a / 1000000ULL, a % 1000000ULL, 6);
}

/* an exact non-negative int of parts per 10^9 as a fraction (the codec's _ppb_fraction) */
static int put_ppb(Buf *b, PyObject *v) {
    if (!PyLong_CheckExact(v)) return -1;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || x < 0) return -1;
    return put_fixed(b, (unsigned long long)x / 1000000000ULL, (unsigned long long)x % 1000000000ULL, 9);
}

static inline char *digits(char *o, int v, int width) {
    for (int k = width - 1; k >= 0; k--) { o[k] = (char)('0' + v % 10); v /= 10; }
    return o + width;
}

/* an exact datetime in UTC as the codec's format_time writes it */
static int put_time(Buf *b, PyObject *t) {
    if (!PyDateTime_CheckExact(t) || PyDateTime_DATE_GET_TZINFO(t) != Utc) return -1;
    char s[32], *o = s;
    o = digits(o, PyDateTime_GET_YEAR(t), 4); *o++ = '-';
    o = digits(o, PyDateTime_GET_MONTH(t), 2); *o++ = '-';
    o = digits(o, PyDateTime_GET_DAY(t), 2); *o++ = 'T';
    o = digits(o, PyDateTime_DATE_GET_HOUR(t), 2); *o++ = ':';
    o = digits(o, PyDateTime_DATE_GET_MINUTE(t), 2); *o++ = ':';
    o = digits(o, PyDateTime_DATE_GET_SECOND(t), 2);
    int us = PyDateTime_DATE_GET_MICROSECOND(t);
    if (us) {
        *o++ = '.';
        o = digits(o, us, 6);
        while (o[-1] == '0') o--;
    }
    *o++ = 'Z';
    return put(b, s, o - s);
}

/* a text appended as it is (the codec's converters write digits, signs and points) */
static int put_raw(Buf *b, PyObject *s) {
    if (!PyUnicode_Check(s)) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) return -1;
    return put(b, u, n);
}

/* The codec's _dec(d) = format(d.normalize(), "f") without "-0", for an exact Decimal, from its str(): the
 * coefficient's digits and exponent, trailing zeros dropped, written in positional notation. Declined (the
 * Python converter decides): NaN and infinities, more than 28 significant digits (normalize() would round them
 * to the context's precision) and exponents beyond +-100. Any other value goes to the Python converter. */
static int put_decimal(Buf *b, PyObject *d) {
    PyObject *str = PyObject_Str(d);
    if (!str) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(str, &n);
    int rc = -1;
    char digits[64];
    int nd = 0, neg = 0, seen_point = 0, frac = 0;
    long exp = 0;
    Py_ssize_t i = 0;
    if (!u) goto done;
    if (i < n && (u[i] == '-' || u[i] == '+')) neg = u[i++] == '-';
    for (; i < n; i++) {
        char c = u[i];
        if (c >= '0' && c <= '9') {
            if (nd == 0 && c == '0') { if (seen_point) frac++; continue; }  /* leading zeros */
            if (nd >= 28) goto done;
            digits[nd++] = c;
            if (seen_point) frac++;
        } else if (c == '.' && !seen_point) {
            seen_point = 1;
        } else break;
    }
    if (i < n) {  /* an exponent: E, sign, up to 4 digits */
        if (u[i] != 'E' && u[i] != 'e') goto done;
        i++;
        int eneg = 0, ed = 0;
        if (i < n && (u[i] == '-' || u[i] == '+')) eneg = u[i++] == '-';
        for (; i < n; i++) {
            if (u[i] < '0' || u[i] > '9' || ed >= 4) goto done;
            exp = exp * 10 + (u[i] - '0');
            ed++;
        }
        if (!ed) goto done;
        if (eneg) exp = -exp;
    }
    if (nd == 0) { rc = LIT(b, "0"); goto done; }  /* zero, of any sign and exponent */
    exp -= frac;  /* value = digits x 10^exp */
    while (nd > 1 && digits[nd - 1] == '0') { nd--; exp++; }
    if (exp > 100 || exp < -100) goto done;
    if (neg && LIT(b, "-") < 0) goto done;
    if (exp >= 0) {
        if (put(b, digits, nd) < 0) goto done;
        for (long k = 0; k < exp; k++) if (LIT(b, "0") < 0) goto done;
    } else if (nd > -exp) {
        if (put(b, digits, nd + exp) < 0 || LIT(b, ".") < 0 || put(b, digits + nd + exp, -exp) < 0) goto done;
    } else {
        if (LIT(b, "0.") < 0) goto done;
        for (long k = 0; k < -exp - nd; k++) if (LIT(b, "0") < 0) goto done;
        if (put(b, digits, nd) < 0) goto done;
    }
    rc = 0;
done:
    Py_DECREF(str);
    return rc;
}

static int put_dec(Buf *b, PyObject *d) {
    if ((PyObject *)Py_TYPE(d) == DecimalType) {
        Py_ssize_t mark = b->n;
        if (put_decimal(b, d) == 0) return 0;
        b->n = mark;
        PyErr_Clear();
    }
    PyObject *r = PyObject_CallOneArg(DecFunc, d);
    if (!r) return -1;
    int rc = put_raw(b, r);
    Py_DECREF(r);
    return rc;
}

/* attribute getter returning a new reference, or NULL (an error: the caller declines) */
#define GET(o, name) PyObject_GetAttr((o), (name))

/* truth of a value; -1 on error */
static int truth(PyObject *o) { return PyObject_IsTrue(o); }

/* a tuple or list, as a borrowed item array */
static int seq_items(PyObject *o, PyObject ***items, Py_ssize_t *n) {
    if (PyTuple_CheckExact(o)) { *items = &PyTuple_GET_ITEM(o, 0); *n = PyTuple_GET_SIZE(o); return 0; }
    if (PyList_CheckExact(o)) { *items = ((PyListObject *)o)->ob_item; *n = PyList_GET_SIZE(o); return 0; }
    return -1;
}

/* the sorted keys of an exact dict (a new list), or NULL */
static PyObject *sorted_keys(PyObject *d) {
    if (!PyDict_Check(d)) return NULL;
    PyObject *keys = PyDict_Keys(d);
    if (!keys) return NULL;
    if (PyList_Sort(keys) < 0) { Py_DECREF(keys); return NULL; }
    return keys;
}

typedef int (*value_writer)(Buf *, PyObject *);

/* {"k":<v>,...} of a dict, keys sorted; quoted: the value is written between quotes by `w`; strict: keys and
 * values must be exact str (the Python writer's _text_map) */
static int put_map(Buf *b, PyObject *d, value_writer w, int quoted, int strict) {
    PyObject *keys = sorted_keys(d);
    if (!keys) return -1;
    int rc = LIT(b, "{");
    Py_ssize_t n = PyList_GET_SIZE(keys);
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
        PyObject *k = PyList_GET_ITEM(keys, i);
        PyObject *v = PyDict_GetItemWithError(d, k);  /* borrowed */
        if (!v || (strict && (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(v)))) { rc = -1; break; }
        if (i) rc = LIT(b, ",");
        if (rc == 0) rc = put_esc(b, k);
        if (rc == 0) rc = quoted ? LIT(b, ":\"") : LIT(b, ":");
        if (rc == 0) rc = w(b, v);
        if (rc == 0 && quoted) rc = LIT(b, "\"");
    }
    Py_DECREF(keys);
    if (rc == 0) rc = LIT(b, "}");
    return rc;
}

/* "name":"<dec>" when the attribute is not None (comma first when `*first` is 0) */
static int opt_field(Buf *b, PyObject *o, PyObject *attr, const char *key, int dec, int *first) {
    PyObject *v = GET(o, attr);
    if (!v) return -1;
    int rc = 0;
    if (v != Py_None) {
        if (!*first) rc = LIT(b, ",");
        *first = 0;
        if (rc == 0) rc = put(b, key, (Py_ssize_t)strlen(key));
        if (rc == 0) rc = dec ? (LIT(b, "\"") < 0 || put_dec(b, v) < 0 || LIT(b, "\"") < 0 ? -1 : 0) : put_esc(b, v);
    }
    Py_DECREF(v);
    return rc;
}

static int put_activity(Buf *b, PyObject *a) {
    PyObject *el = NULL, *fu = NULL, *re = NULL, *rd = NULL, *readings = NULL;
    PyObject **it;
    Py_ssize_t n;
    int rc = -1, first = 1, t;
    TRY(LIT(b, "{"));
    if (!(el = GET(a, s_electricity)) || (t = truth(el)) < 0) goto done;
    if (t) {
        if (seq_items(el, &it, &n) < 0 || LIT(b, "\"electricity\":[") < 0) goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            int f = 1;
            if ((i && LIT(b, ",") < 0) || LIT(b, "{") < 0
                || opt_field(b, it[i], s_factor_key, "\"factor_key\":", 0, &f) < 0
                || opt_field(b, it[i], s_instrument, "\"instrument\":", 0, &f) < 0)
                goto done;
            PyObject *kwh = GET(it[i], s_kwh);
            if (!kwh) goto done;
            int r2 = (!f ? LIT(b, ",") : 0) < 0 || LIT(b, "\"kwh\":\"") < 0 || put_dec(b, kwh) < 0 || LIT(b, "\"") < 0;
            Py_DECREF(kwh);
            f = 0;
            if (r2 || opt_field(b, it[i], s_source, "\"source\":", 0, &f) < 0 || LIT(b, "}") < 0) goto done;
        }
        if (LIT(b, "]") < 0) goto done;
        first = 0;
    }
    if (!(fu = GET(a, s_fuels)) || (t = truth(fu)) < 0) goto done;
    if (t) {
        if (seq_items(fu, &it, &n) < 0 || (!first && LIT(b, ",") < 0) || LIT(b, "\"fuels\":[") < 0) goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *kind = GET(it[i], s_kind);
            if (!kind) goto done;
            int r2 = (i && LIT(b, ",") < 0) || LIT(b, "{\"kind\":") < 0 || put_esc(b, kind) < 0;
            Py_DECREF(kind);
            if (r2) goto done;
            PyObject *mj = GET(it[i], s_mj);
            if (!mj) goto done;
            r2 = LIT(b, ",\"mj\":\"") < 0 || put_dec(b, mj) < 0 || LIT(b, "\"}") < 0;
            Py_DECREF(mj);
            if (r2) goto done;
        }
        if (LIT(b, "]") < 0) goto done;
        first = 0;
    }
    if (opt_field(b, a, s_process_kg_co2e, "\"process_kg_co2e\":", 1, &first) < 0) goto done;
    if (!(rd = GET(a, s_readings)) || (t = truth(rd)) < 0) goto done;
    if (t) {
        if (!(readings = PyDict_New()) || PyDict_MergeFromSeq2(readings, rd, 1) < 0) goto done;
        if ((!first && LIT(b, ",") < 0) || LIT(b, "\"readings\":") < 0 || put_map(b, readings, put_esc, 0, 1) < 0)
            goto done;
        first = 0;
    }
    if (!(re = GET(a, s_reagents)) || (t = truth(re)) < 0) goto done;
    if (t) {
        if (seq_items(re, &it, &n) < 0 || (!first && LIT(b, ",") < 0) || LIT(b, "\"reagents\":[") < 0) goto done;
        for (Py_ssize_t i = 0; i < n; i++) {
            int f = 1;
            if ((i && LIT(b, ",") < 0) || LIT(b, "{") < 0
                || opt_field(b, it[i], s_factor_key, "\"factor_key\":", 0, &f) < 0)
                goto done;
            PyObject *kg = GET(it[i], s_kg);
            if (!kg) goto done;
            int r2 = (!f && LIT(b, ",") < 0) || LIT(b, "\"kg\":\"") < 0 || put_dec(b, kg) < 0;
            Py_DECREF(kg);
            if (r2) goto done;
            PyObject *name = GET(it[i], s_name);
            if (!name) goto done;
            r2 = LIT(b, "\",\"name\":") < 0 || put_esc(b, name) < 0 || LIT(b, "}") < 0;
            Py_DECREF(name);
            if (r2) goto done;
        }
        if (LIT(b, "]") < 0) goto done;
        first = 0;
    }
    if (opt_field(b, a, s_water_m3, "\"water_m3\":", 1, &first) < 0) goto done;
    rc = LIT(b, "}");
done:
    Py_XDECREF(el); Py_XDECREF(fu); Py_XDECREF(re); Py_XDECREF(rd); Py_XDECREF(readings);
    return rc;
}

/* 1 when an activity holds no datum (Activity.is_empty), 0 when it does, -1 on error */
static int activity_empty(PyObject *a) {
    PyObject *const seqs[4] = {s_electricity, s_fuels, s_reagents, s_readings};
    for (int k = 0; k < 4; k++) {
        PyObject *v = GET(a, seqs[k]);
        if (!v) return -1;
        int t = truth(v);
        Py_DECREF(v);
        if (t) return t < 0 ? -1 : 0;
    }
    PyObject *const opts[2] = {s_water_m3, s_process_kg_co2e};
    for (int k = 0; k < 2; k++) {
        PyObject *v = GET(a, opts[k]);
        if (!v) return -1;
        int none = v == Py_None;
        Py_DECREF(v);
        if (!none) return 0;
    }
    return 1;
}

/* "key":<escaped attribute> */
static int esc_field(Buf *b, PyObject *o, PyObject *attr, const char *key) {
    PyObject *v = GET(o, attr);
    if (!v) return -1;
    int rc = put(b, key, (Py_ssize_t)strlen(key)) < 0 || put_esc(b, v) < 0 ? -1 : 0;
    Py_DECREF(v);
    return rc;
}

/* "key":"<writer(attribute)>" */
static int quoted_field(Buf *b, PyObject *o, PyObject *attr, const char *key, value_writer w) {
    PyObject *v = GET(o, attr);
    if (!v) return -1;
    int rc = put(b, key, (Py_ssize_t)strlen(key)) < 0 || w(b, v) < 0 || LIT(b, "\"") < 0 ? -1 : 0;
    Py_DECREF(v);
    return rc;
}

/* "key":<escaped attribute>, only when the attribute is truthy (then with a comma after) */
static int truthy_esc_field(Buf *b, PyObject *o, PyObject *attr, const char *key) {
    PyObject *v = GET(o, attr);
    if (!v) return -1;
    int t = truth(v), rc = t;
    if (t > 0) rc = put(b, key, (Py_ssize_t)strlen(key)) < 0 || put_esc(b, v) < 0 || LIT(b, ",") < 0 ? -1 : 0;
    Py_DECREF(v);
    return rc < 0 ? -1 : 0;
}

static int put_lot(Buf *b, PyObject *lot) {
    TRY(LIT(b, "{"));
    PyObject *a = GET(lot, s_activity);
    if (!a) return -1;
    int rc = 0;
    if (a != Py_None) {
        int e = activity_empty(a);
        rc = e < 0 ? -1 : e ? 0 : (LIT(b, "\"activity\":") < 0 || put_activity(b, a) < 0 || LIT(b, ",") < 0 ? -1 : 0);
    }
    Py_DECREF(a);
    TRY(rc);
    PyObject *assay = GET(lot, s_assay);
    if (!assay) return -1;
    rc = LIT(b, "\"assay\":") < 0 || put_map(b, assay, put_ppb, 1, 0) < 0 || LIT(b, ",") < 0 ? -1 : 0;
    Py_DECREF(assay);
    TRY(rc);
    TRY(truthy_esc_field(b, lot, s_assay_lab, "\"assay_lab\":"));
    TRY(truthy_esc_field(b, lot, s_assay_method, "\"assay_method\":"));
    TRY(esc_field(b, lot, s_id, "\"id\":"));
    TRY(quoted_field(b, lot, s_mass_mg, ",\"mass_kg\":\"", put_kg));
    TRY(esc_field(b, lot, s_material, ",\"material\":"));
    TRY(esc_field(b, lot, s_origin, ",\"origin\":"));
    TRY(quoted_field(b, lot, s_produced_at, ",\"produced_at\":\"", put_time));
    TRY(LIT(b, ","));
    PyObject *q = GET(lot, s_quality);
    if (!q) return -1;
    int t = truth(q);
    rc = t < 0 ? -1 : t ? (LIT(b, "\"quality\":") < 0 || put_map(b, q, put_esc, 0, 1) < 0 || LIT(b, ",") < 0 ? -1 : 0) : 0;
    Py_DECREF(q);
    TRY(rc);
    TRY(esc_field(b, lot, s_site, "\"site\":"));
    return LIT(b, "}");
}

static int put_run(Buf *b, PyObject *run) {
    PyObject *alloc = GET(run, s_allocation);
    if (!alloc) return -1;
    int ne = PyObject_RichCompareBool(alloc, s_mass, Py_NE);
    Py_DECREF(alloc);
    if (ne != 0) return -1;  /* an economic allocation: the Python writer */
    TRY(LIT(b, "{"));
    PyObject *a = GET(run, s_activity);
    if (!a) return -1;
    int e = activity_empty(a);
    int rc = e < 0 ? -1 : e ? 0 : (LIT(b, "\"activity\":") < 0 || put_activity(b, a) < 0 || LIT(b, ",") < 0 ? -1 : 0);
    Py_DECREF(a);
    TRY(rc);
    TRY(quoted_field(b, run, s_ended_at, "\"ended_at\":\"", put_time));
    TRY(esc_field(b, run, s_id, ",\"id\":"));
    TRY(LIT(b, ",\"inputs\":["));
    PyObject *ins = GET(run, s_inputs);
    if (!ins) return -1;
    PyObject **it;
    Py_ssize_t n;
    rc = seq_items(ins, &it, &n);
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
        rc = (i && LIT(b, ",") < 0) || esc_field(b, it[i], s_lot, "{\"lot\":") < 0
             || quoted_field(b, it[i], s_mass_mg, ",\"mass_kg\":\"", put_kg) < 0 || LIT(b, "}") < 0 ? -1 : 0;
    }
    Py_DECREF(ins);
    TRY(rc);
    TRY(esc_field(b, run, s_kind, "],\"kind\":"));
    TRY(LIT(b, ","));
    PyObject *losses = GET(run, s_losses_mg);
    if (!losses) return -1;
    int t = truth(losses);
    rc = t < 0 ? -1 : t ? (LIT(b, "\"losses_kg\":") < 0 || put_map(b, losses, put_kg, 1, 0) < 0 || LIT(b, ",") < 0 ? -1 : 0) : 0;
    Py_DECREF(losses);
    TRY(rc);
    TRY(LIT(b, "\"outputs\":["));
    PyObject *outs = GET(run, s_outputs);
    if (!outs) return -1;
    rc = seq_items(outs, &it, &n);
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++)
        rc = (i && LIT(b, ",") < 0) || put_lot(b, it[i]) < 0 ? -1 : 0;
    Py_DECREF(outs);
    TRY(rc);
    TRY(esc_field(b, run, s_site, "],\"site\":"));
    TRY(quoted_field(b, run, s_started_at, ",\"started_at\":\"", put_time));
    return LIT(b, "}");
}

static int put_shipment(Buf *b, PyObject *s) {
    TRY(quoted_field(b, s, s_distance_km, "{\"distance_km\":\"", put_dec));
    TRY(esc_field(b, s, s_from_site, ",\"from_site\":"));
    TRY(esc_field(b, s, s_id, ",\"id\":"));
    TRY(esc_field(b, s, s_lot, ",\"lot\":"));
    TRY(quoted_field(b, s, s_mass_mg, ",\"mass_kg\":\"", put_kg));
    TRY(esc_field(b, s, s_mode, ",\"mode\":"));
    TRY(quoted_field(b, s, s_shipped_at, ",\"shipped_at\":\"", put_time));
    PyObject *org = GET(s, s_to_organisation);
    if (!org) return -1;
    int rc = LIT(b, ",\"to_organisation\":") < 0 || (org == Py_None ? LIT(b, "null") : put_esc(b, org)) < 0 ? -1 : 0;
    Py_DECREF(org);
    TRY(rc);
    TRY(esc_field(b, s, s_to_site, ",\"to_site\":"));
    return LIT(b, "}");
}

static PyObject *payload(PyObject *self, PyObject *body) {
    if (!DecFunc) {
        PyErr_SetString(PyExc_RuntimeError, "lichain._hotpath.setup() was not called");
        return NULL;
    }
    Buf b;
    buf_init(&b);
    int rc;
    PyTypeObject *t = Py_TYPE(body);
    if ((PyObject *)t == RunType) rc = put_run(&b, body);
    else if ((PyObject *)t == LotType) rc = put_lot(&b, body);
    else if ((PyObject *)t == ShipmentType) rc = put_shipment(&b, body);
    else rc = -1;
    PyObject *out = NULL;
    if (rc == 0) out = PyUnicode_DecodeUTF8(b.p, b.n, "strict");
    buf_free(&b);
    if (out) return out;
    PyErr_Clear();  /* anything unexpected: the Python writer decides */
    Py_RETURN_NONE;
}

static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *lot, *run, *shipment, *utc, *dec, *decimal;
    if (!PyArg_ParseTuple(args, "OOOOOO", &lot, &run, &shipment, &utc, &dec, &decimal)) return NULL;
    Py_XSETREF(DecimalType, Py_NewRef(decimal));
    Py_XSETREF(LotType, Py_NewRef(lot));
    Py_XSETREF(RunType, Py_NewRef(run));
    Py_XSETREF(ShipmentType, Py_NewRef(shipment));
    Py_XSETREF(Utc, Py_NewRef(utc));
    Py_XSETREF(DecFunc, Py_NewRef(dec));
    Py_RETURN_NONE;
}


/* ---------------------------------------------------------------------------------------------------------------
 * The field screen (lichain.core.fieldscreen) of lots, runs and shipments: screen(body, payload, lo, hi) is True
 * only when the Python screen would clear the body (every text within its limit, times inside [lo, hi], masses far
 * below the schema's bound, element symbols, plainly valid lot ids, free-form maps without ruled keys, and a
 * payload of printable ASCII without escapes whose texts are all within the free-text limit). False whenever it is
 * not certain, for any reason: the Python screen then decides, so a False costs time, never an answer.
 * ------------------------------------------------------------------------------------------------------------- */

static PyObject *Elements, *RuledKeys, *TimeSuffixes, *LotIdOk, *Cleared, *SafeKgHi, *SafeKgLo;
static Py_ssize_t L_SITE, L_MATERIAL, L_NAME, L_RUN_ID, L_SHIP_ID, L_RUN_KIND, L_MODE, L_ORG, L_FACTOR,
    L_INSTRUMENT, L_TEXT;
static long long SAFE_MG;

/* an exact UTC datetime as one ordered integer (microseconds in a calendar-ordered count); -1 if not one */
static long long time_key(PyObject *t) {
    if (!PyDateTime_CheckExact(t) || PyDateTime_DATE_GET_TZINFO(t) != Utc) return -1;
    long long k = PyDateTime_GET_YEAR(t);
    k = k * 13 + PyDateTime_GET_MONTH(t);
    k = k * 32 + PyDateTime_GET_DAY(t);
    k = k * 24 + PyDateTime_DATE_GET_HOUR(t);
    k = k * 60 + PyDateTime_DATE_GET_MINUTE(t);
    k = k * 60 + PyDateTime_DATE_GET_SECOND(t);
    return k * 1000000 + PyDateTime_DATE_GET_MICROSECOND(t);
}

typedef struct { long long lo, hi; } Window;

/* 1 when attribute `name` of o is an exact str of at most `limit` code points (or None where none_ok) */
static int text_ok(PyObject *o, PyObject *name, Py_ssize_t limit, int none_ok) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    int ok = (none_ok && v == Py_None) || (PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) <= limit);
    Py_DECREF(v);
    return ok;
}

/* falsy, or an exact str within the limit (assay_method, assay_lab) */
static int opt_text_ok(PyObject *o, PyObject *name, Py_ssize_t limit) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    int ok = v == Py_None || (PyUnicode_CheckExact(v) && PyUnicode_GET_LENGTH(v) <= limit);
    Py_DECREF(v);
    return ok;
}

static int time_ok(PyObject *o, PyObject *name, const Window *w) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    long long k = time_key(v);
    Py_DECREF(v);
    return k >= 0 && w->lo <= k && k <= w->hi;
}

static int mass_ok(PyObject *v) {
    if (!PyLong_CheckExact(v)) return 0;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
    return -SAFE_MG <= x && x <= SAFE_MG;
}

static int mass_attr_ok(PyObject *o, PyObject *name) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    int ok = mass_ok(v);
    Py_DECREF(v);
    return ok;
}

/* the Python screen's _lot_id_ok: the set of cleared ids, else the Python check (which fills the set) */
static int lot_id_ok(PyObject *id) {
    if (!PyUnicode_CheckExact(id)) return 0;
    int in = PySet_Contains(Cleared, id);
    if (in) { if (in < 0) PyErr_Clear(); return in > 0; }
    PyObject *r = PyObject_CallOneArg(LotIdOk, id);
    if (!r) { PyErr_Clear(); return 0; }
    int ok = r == Py_True;
    Py_DECREF(r);
    return ok;
}

static int lot_id_attr_ok(PyObject *o, PyObject *name) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    int ok = lot_id_ok(v);
    Py_DECREF(v);
    return ok;
}

/* every key of an exact dict is an element symbol; masses: every value a mass within bounds */
static int element_keys_ok(PyObject *d, int masses) {
    if (!PyDict_CheckExact(d)) return 0;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        int in = PySet_Contains(Elements, k);
        if (in <= 0) { if (in < 0) PyErr_Clear(); return 0; }
        if (masses && !mass_ok(v)) return 0;
    }
    return 1;
}

/* a free-form text pair: exact str key without a rule of its own and not time-like, exact str value */
static int free_pair_ok(PyObject *k, PyObject *v) {
    if (!PyUnicode_CheckExact(k) || !PyUnicode_CheckExact(v)) return 0;
    int in = PySet_Contains(RuledKeys, k);
    if (in) { if (in < 0) PyErr_Clear(); return 0; }
    Py_ssize_t n = PyTuple_GET_SIZE(TimeSuffixes);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t r = PyUnicode_Tailmatch(k, PyTuple_GET_ITEM(TimeSuffixes, i), 0, PY_SSIZE_T_MAX, 1);
        if (r) { if (r < 0) PyErr_Clear(); return 0; }
    }
    return 1;
}

/* falsy, or an exact dict of free-form text pairs (a lot's quality) */
static int quality_ok(PyObject *o) {
    PyObject *q = GET(o, s_quality);
    if (!q) { PyErr_Clear(); return 0; }
    int ok;
    if (PyDict_CheckExact(q)) {
        ok = 1;
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (ok && PyDict_Next(q, &pos, &k, &v)) ok = free_pair_ok(k, v);
    } else {
        ok = 0;
    }
    Py_DECREF(q);
    return ok;
}

static int decimal_in_safe_range(PyObject *v) {
    if ((PyObject *)Py_TYPE(v) != DecimalType) return 0;
    int a = PyObject_RichCompareBool(SafeKgLo, v, Py_LE), b = a == 1 ? PyObject_RichCompareBool(v, SafeKgHi, Py_LE) : 0;
    if (a < 0 || b < 0) { PyErr_Clear(); return 0; }
    return a && b;
}

static int activity_ok(PyObject *a) {
    if (a == Py_None) return 1;
    PyObject *v, **it;
    Py_ssize_t n;
    int ok = 1;
    /* readings: a tuple of exact (str, str) pairs */
    if (!(v = GET(a, s_readings))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++)
        ok = PyTuple_CheckExact(it[i]) && PyTuple_GET_SIZE(it[i]) == 2
             && free_pair_ok(PyTuple_GET_ITEM(it[i], 0), PyTuple_GET_ITEM(it[i], 1));
    Py_DECREF(v);
    if (!ok) return 0;
    if (!(v = GET(a, s_electricity))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++)
        ok = text_ok(it[i], s_instrument, L_INSTRUMENT, 1) && text_ok(it[i], s_factor_key, L_FACTOR, 1);
    Py_DECREF(v);
    if (!ok) return 0;
    if (!(v = GET(a, s_fuels))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) ok = text_ok(it[i], s_kind, L_RUN_KIND, 0);
    Py_DECREF(v);
    if (!ok) return 0;
    if (!(v = GET(a, s_reagents))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) {
        ok = text_ok(it[i], s_name, L_NAME, 0) && text_ok(it[i], s_factor_key, L_FACTOR, 1);
        if (ok) {
            PyObject *kg = GET(it[i], s_kg);
            if (!kg) { PyErr_Clear(); ok = 0; }
            else { ok = decimal_in_safe_range(kg); Py_DECREF(kg); }
        }
    }
    Py_DECREF(v);
    return ok;
}

static int activity_attr_ok(PyObject *o) {
    PyObject *a = GET(o, s_activity);
    if (!a) { PyErr_Clear(); return 0; }
    int ok = activity_ok(a);
    Py_DECREF(a);
    return ok;
}

static int dict_attr_ok(PyObject *o, PyObject *name, int masses) {
    PyObject *d = GET(o, name);
    if (!d) { PyErr_Clear(); return 0; }
    int ok = element_keys_ok(d, masses);
    Py_DECREF(d);
    return ok;
}

static int lot_ok(PyObject *lot, const Window *w) {
    return lot_id_attr_ok(lot, s_id) && text_ok(lot, s_material, L_MATERIAL, 0) && text_ok(lot, s_site, L_SITE, 0)
           && time_ok(lot, s_produced_at, w) && mass_attr_ok(lot, s_mass_mg) && dict_attr_ok(lot, s_assay, 0)
           && quality_ok(lot) && opt_text_ok(lot, s_assay_method, L_NAME) && opt_text_ok(lot, s_assay_lab, L_NAME)
           && activity_attr_ok(lot);
}

static int run_ok(PyObject *run, const Window *w) {
    if (!(text_ok(run, s_id, L_RUN_ID, 0) && text_ok(run, s_site, L_SITE, 0) && text_ok(run, s_kind, L_RUN_KIND, 0)
          && time_ok(run, s_started_at, w) && time_ok(run, s_ended_at, w)))
        return 0;
    PyObject *alloc = GET(run, s_allocation);
    if (!alloc) { PyErr_Clear(); return 0; }
    int mass = PyUnicode_CheckExact(alloc) && PyUnicode_Compare(alloc, s_mass) == 0;
    Py_DECREF(alloc);
    if (!mass || !dict_attr_ok(run, s_losses_mg, 1) || !activity_attr_ok(run)) return 0;
    PyObject *v, **it;
    Py_ssize_t n;
    int ok = 1;
    if (!(v = GET(run, s_inputs))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) ok = lot_id_attr_ok(it[i], s_lot) && mass_attr_ok(it[i], s_mass_mg);
    Py_DECREF(v);
    if (!ok) return 0;
    if (!(v = GET(run, s_outputs))) { PyErr_Clear(); return 0; }
    if (seq_items(v, &it, &n) < 0) ok = 0;
    for (Py_ssize_t i = 0; ok && i < n; i++) ok = Py_TYPE(it[i]) == (PyTypeObject *)LotType && lot_ok(it[i], w);
    Py_DECREF(v);
    return ok;
}

static int shipment_ok(PyObject *s, const Window *w) {
    return text_ok(s, s_id, L_SHIP_ID, 0) && lot_id_attr_ok(s, s_lot) && text_ok(s, s_from_site, L_SITE, 0)
           && text_ok(s, s_to_site, L_SITE, 0) && text_ok(s, s_mode, L_MODE, 0)
           && text_ok(s, s_to_organisation, L_ORG, 1) && time_ok(s, s_shipped_at, w) && mass_attr_ok(s, s_mass_mg);
}

/* the payload is printable-or-space ASCII with no backslash and no DEL, and no text between two quotes is longer
 * than the free-text limit */
static int payload_plain(PyObject *payload) {
    if (!PyUnicode_CheckExact(payload) || !PyUnicode_IS_ASCII(payload)) return 0;
    const unsigned char *p = PyUnicode_1BYTE_DATA(payload);
    Py_ssize_t n = PyUnicode_GET_LENGTH(payload), run = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == '\\' || c == 0x7f) return 0;
        if (c == '"') { run = 0; continue; }
        if (++run > L_TEXT) return 0;
    }
    return 1;
}

static PyObject *screen(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) { PyErr_SetString(PyExc_TypeError, "screen(body, payload, lo, hi)"); return NULL; }
    if (!Elements) { PyErr_SetString(PyExc_RuntimeError, "lichain._hotpath.setup_screen() was not called"); return NULL; }
    PyObject *body = args[0];
    Window w = {time_key(args[2]), time_key(args[3])};
    int ok = 0;
    if (w.lo >= 0 && w.hi >= 0 && payload_plain(args[1])) {
        PyObject *t = (PyObject *)Py_TYPE(body);
        if (t == RunType) ok = run_ok(body, &w);
        else if (t == LotType) ok = lot_ok(body, &w);
        else if (t == ShipmentType) ok = shipment_ok(body, &w);
    }
    if (PyErr_Occurred()) PyErr_Clear();
    return PyBool_FromLong(ok);
}

static PyObject *setup_screen(PyObject *self, PyObject *args) {
    PyObject *elements, *ruled, *suffixes, *lot_id_ok_f, *cleared, *limits, *safe_kg;
    if (!PyArg_ParseTuple(args, "O!O!O!OO!O!O", &PyFrozenSet_Type, &elements, &PyFrozenSet_Type, &ruled, &PyTuple_Type,
                          &suffixes, &lot_id_ok_f, &PySet_Type, &cleared, &PyDict_Type, &limits, &safe_kg))
        return NULL;
    struct { const char *name; Py_ssize_t *var; } named[] = {
        {"site", &L_SITE}, {"material", &L_MATERIAL}, {"name", &L_NAME}, {"run_id", &L_RUN_ID},
        {"shipment_id", &L_SHIP_ID}, {"run_kind", &L_RUN_KIND}, {"mode", &L_MODE}, {"organisation", &L_ORG},
        {"factor", &L_FACTOR}, {"instrument", &L_INSTRUMENT}, {"text", &L_TEXT}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        PyObject *v = PyDict_GetItemString(limits, named[i].name);
        if (!v) { PyErr_Format(PyExc_KeyError, "limit %s", named[i].name); return NULL; }
        Py_ssize_t x = PyLong_AsSsize_t(v);
        if (x == -1 && PyErr_Occurred()) return NULL;
        *named[i].var = x;
    }
    PyObject *mg = PyDict_GetItemString(limits, "safe_mg");
    if (!mg) { PyErr_SetString(PyExc_KeyError, "limit safe_mg"); return NULL; }
    SAFE_MG = PyLong_AsLongLong(mg);
    if (SAFE_MG == -1 && PyErr_Occurred()) return NULL;
    PyObject *neg = PyNumber_Negative(safe_kg);
    if (!neg) return NULL;
    Py_XSETREF(SafeKgLo, neg);
    Py_XSETREF(SafeKgHi, Py_NewRef(safe_kg));
    Py_XSETREF(Elements, Py_NewRef(elements));
    Py_XSETREF(RuledKeys, Py_NewRef(ruled));
    Py_XSETREF(TimeSuffixes, Py_NewRef(suffixes));
    Py_XSETREF(LotIdOk, Py_NewRef(lot_id_ok_f));
    Py_XSETREF(Cleared, Py_NewRef(cleared));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", setup, METH_VARARGS, "setup(Lot, Run, Shipment, UTC, dec, Decimal): the model's types, the decimal writer and its type."},
    {"payload", payload, METH_O,
     "payload(body) -> str | None: the canonical JSON of a lot, run or shipment; None where the Python writer "
     "must decide."},
    {"setup_screen", setup_screen, METH_VARARGS,
     "setup_screen(elements, ruled_keys, time_suffixes, lot_id_ok, cleared, limits, safe_kg): the screen's bounds."},
    {"screen", (PyCFunction)(void (*)(void))screen, METH_FASTCALL,
     "screen(body, payload, lo, hi) -> bool: True only when the field screen certainly clears the body."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hotpath",
                                    "The canonical payload of lots, runs and shipments in compiled code.", -1,
                                    methods, NULL, NULL, NULL, NULL};

#define INTERN(var, text) if (!((var) = PyUnicode_InternFromString(text))) return NULL

PyMODINIT_FUNC PyInit__hotpath(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    INTERN(s_activity, "activity"); INTERN(s_assay, "assay"); INTERN(s_assay_lab, "assay_lab");
    INTERN(s_assay_method, "assay_method"); INTERN(s_id, "id"); INTERN(s_mass_mg, "mass_mg");
    INTERN(s_material, "material"); INTERN(s_origin, "origin"); INTERN(s_produced_at, "produced_at");
    INTERN(s_quality, "quality"); INTERN(s_site, "site"); INTERN(s_electricity, "electricity");
    INTERN(s_fuels, "fuels"); INTERN(s_reagents, "reagents"); INTERN(s_readings, "readings");
    INTERN(s_water_m3, "water_m3"); INTERN(s_process_kg_co2e, "process_kg_co2e"); INTERN(s_factor_key, "factor_key");
    INTERN(s_instrument, "instrument"); INTERN(s_kwh, "kwh"); INTERN(s_source, "source"); INTERN(s_kind, "kind");
    INTERN(s_mj, "mj"); INTERN(s_name, "name"); INTERN(s_kg, "kg"); INTERN(s_allocation, "allocation");
    INTERN(s_inputs, "inputs"); INTERN(s_outputs, "outputs"); INTERN(s_losses_mg, "losses_mg"); INTERN(s_lot, "lot");
    INTERN(s_ended_at, "ended_at"); INTERN(s_started_at, "started_at"); INTERN(s_distance_km, "distance_km");
    INTERN(s_from_site, "from_site"); INTERN(s_to_site, "to_site"); INTERN(s_mode, "mode");
    INTERN(s_shipped_at, "shipped_at"); INTERN(s_to_organisation, "to_organisation"); INTERN(s_is_empty, "is_empty");
    INTERN(s_mass, "mass");
    return PyModule_Create(&module);
}
