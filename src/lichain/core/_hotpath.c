/* The canonical payload of lots, runs and shipments in compiled code: byte for byte what
 * lichain.core.fastcodec writes (and so what lichain.core.codec.canonical_payload writes).
 *
 * Why this exists: writing the payload text is the largest single stage of bulk ingest in Python (about 12 µs per
 * event on the demo chain: one escaped string per field, one f-string per item). Here the text is written once into
 * one buffer. The writer declines (returns None) whenever a value is not of the plain type the ledger's model
 * gives it (a str subclass is accepted as the JSON encoder accepts it; an int must be an exact int within 64 bits,
 * a time an exact datetime in UTC, a container a tuple or dict), when a text cannot be encoded (a lone
 * surrogate), or for an economic allocation; the Python writer then decides, so nothing unusual is ever guessed.
 * Decimal quantities are formatted by the codec's own Python converter, passed in by setup().
 *
 * Property tests: tests/unit/test_fastcodec.py (compiled, Python and reference writers give the same bytes).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <string.h>

#include "_hotcommon.h"


static PyObject *LotType, *RunType, *ShipmentType, *Utc, *DecFunc, *DecimalType;
static PyObject *s_activity, *s_assay, *s_assay_lab, *s_assay_method, *s_id, *s_mass_mg, *s_material,
    *s_origin, *s_produced_at, *s_quality, *s_site, *s_electricity, *s_fuels, *s_reagents, *s_readings,
    *s_water_m3, *s_process_kg_co2e, *s_factor_key, *s_instrument, *s_kwh, *s_source, *s_kind, *s_mj, *s_name,
    *s_kg, *s_allocation, *s_inputs, *s_outputs, *s_losses_mg, *s_lot, *s_ended_at, *s_started_at,
    *s_distance_km, *s_from_site, *s_to_site, *s_mode, *s_shipped_at, *s_to_organisation, *s_is_empty, *s_mass;

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
    Py_ssize_t plain = 0;  /* the usual text has nothing to escape: one scan, one copy */
    while (plain < n && (unsigned char)u[plain] >= 0x20 && u[plain] != '"' && u[plain] != '\\') plain++;
    memcpy(o, u, (size_t)plain);
    o += plain;
    for (Py_ssize_t i = plain; i < n; i++) {
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

/* an exact datetime in UTC as the codec's format_time writes it */
static int put_time(Buf *b, PyObject *t) {
    if (!PyDateTime_CheckExact(t) || PyDateTime_DATE_GET_TZINFO(t) != Utc) return -1;
    char s[32];
    return put(b, s, time_chars(t, s));
}

/* a text appended as it is (the codec's converters write digits, signs and points) */
static int put_raw(Buf *b, PyObject *s) {
    if (!PyUnicode_Check(s)) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) return -1;
    return put(b, u, n);
}

/* The codec's _dec(d) = format(d.normalize(), "f") without "-0" */
static int put_decimal(Buf *b, PyObject *d) { return put_decimal_text(b, d, 0); }

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

/* Attribute reads. The model's classes are slotted dataclasses: for the types named by setup_types() (and only
 * those, which live as long as the process), the offset of each slot is looked up once through the type's member
 * descriptor and the slot is then read directly, which is what PyObject_GetAttr does for them after a type lookup
 * and a descriptor call. Anything else (another type, a slot left empty, a type with its own attribute hook) goes
 * through PyObject_GetAttr. */
#define ATTR_CACHE 1024
typedef struct { PyTypeObject *t; PyObject *name; Py_ssize_t off; } AttrEntry;
static AttrEntry attr_cache[ATTR_CACHE];
static PyObject *ModelTypes;  /* a tuple of the types whose slots are read directly */

static PyObject *attr_miss(PyObject *o, PyObject *name, AttrEntry *e) {
    PyTypeObject *t = Py_TYPE(o);
    int model = 0;
    if (ModelTypes)
        for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(ModelTypes); k++)
            if ((PyObject *)t == PyTuple_GET_ITEM(ModelTypes, k)) model = 1;
    if (model && t->tp_getattro == PyObject_GenericGetAttr) {
        PyObject *d = _PyType_Lookup(t, name);  /* borrowed */
        Py_ssize_t off = -1;
        if (d && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
            if (m->type == T_OBJECT_EX) off = m->offset;
        }
        e->t = t;
        e->name = name;
        e->off = off;
    }
    return PyObject_GetAttr(o, name);
}

/* attribute getter returning a new reference, or NULL (an error: the caller declines) */
static inline PyObject *GET(PyObject *o, PyObject *name) {
    PyTypeObject *t = Py_TYPE(o);
    AttrEntry *e = &attr_cache[((((uintptr_t)t >> 4) * 31u) ^ ((uintptr_t)name >> 4)) & (ATTR_CACHE - 1)];
    if (e->t == t && e->name == name) {
        if (e->off > 0) {
            PyObject *v = *(PyObject **)((char *)o + e->off);
            if (v) return Py_NewRef(v);
        }
        return PyObject_GetAttr(o, name);
    }
    return attr_miss(o, name, e);
}

/* truth of a value; -1 on error */
static int truth(PyObject *o) { return PyObject_IsTrue(o); }

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
        PyErr_SetString(PyExc_RuntimeError, "lichain.core._hotpath.setup() was not called");
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

static PyObject *Elements, *RuledKeys, *TimeSuffixes, *LotIdOk, *Cleared, *SafeKgHi, *SafeKgLo, *Gs1Prefix;
static Py_ssize_t L_LOT, L_SITE, L_MATERIAL, L_NAME, L_RUN_ID, L_SHIP_ID, L_RUN_KIND, L_MODE, L_ORG, L_FACTOR,
    L_INSTRUMENT, L_TEXT, L_EVENT_ID;
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

/* the GS1 Digital Link form of an ASCII lot id after its prefix (fieldscreen._GS1_OK): "01/", 14 digits, "/10/",
 * then a batch/lot number of 1 to 20 characters of Gs1Lot, then the end or one of / ? # (the characters of the number
 * exclude those three, so the regex's backtracking finds no other match) */
static unsigned char Gs1Lot[128];  /* 1: the character may be in a lot number */
static Py_ssize_t Gs1PrefixLen;

static int gs1_form_ok(const unsigned char *c, Py_ssize_t n) {
    Py_ssize_t i = Gs1PrefixLen;
    if (n < i + 3 + 14 + 4 || memcmp(c + i, "01/", 3) != 0) return 0;
    i += 3;
    for (int k = 0; k < 14; k++, i++) if (c[i] < '0' || c[i] > '9') return 0;
    if (memcmp(c + i, "/10/", 4) != 0) return 0;
    i += 4;
    Py_ssize_t run = 0;
    while (i + run < n && run <= 20 && c[i + run] < 128 && Gs1Lot[c[i + run]]) run++;
    if (run < 1 || run > 20) return 0;
    return i + run == n || c[i + run] == '/' || c[i + run] == '?' || c[i + run] == '#';
}

/* the Python screen's _lot_id_ok: within the lot id limit and, for a GS1 Digital Link (the prefix), of its form:
 * decided here for an ASCII id; otherwise (a digit of another script matches the regex's \d) the set of cleared ids,
 * else the Python check (which fills the set) */
static int lot_id_ok(PyObject *id) {
    if (!PyUnicode_CheckExact(id) || PyUnicode_GET_LENGTH(id) > L_LOT) return 0;
    Py_ssize_t gs1 = PyUnicode_Tailmatch(id, Gs1Prefix, 0, PY_SSIZE_T_MAX, -1);
    if (gs1 < 0) { PyErr_Clear(); return 0; }
    if (!gs1) return 1;
    if (PyUnicode_IS_ASCII(id)) return gs1_form_ok(PyUnicode_1BYTE_DATA(id), PyUnicode_GET_LENGTH(id));
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

/* payload_plain for a payload of at most L_TEXT bytes, read from the bytes written: ASCII with no backslash and no
 * DEL (no text between two quotes can then be longer than the limit); one pass the compiler vectorises */
static int bytes_plain(const unsigned char *p, Py_ssize_t n) {
    unsigned char bad = 0;
    for (Py_ssize_t i = 0; i < n; i++) bad |= (unsigned char)((p[i] == '\\') | (p[i] >= 0x7f));
    return !bad;
}

static PyObject *screen(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) { PyErr_SetString(PyExc_TypeError, "screen(body, payload, lo, hi)"); return NULL; }
    if (!Elements) { PyErr_SetString(PyExc_RuntimeError, "lichain.core._hotpath.setup_screen() was not called"); return NULL; }
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
        {"lot", &L_LOT}, {"site", &L_SITE}, {"material", &L_MATERIAL}, {"name", &L_NAME}, {"run_id", &L_RUN_ID},
        {"shipment_id", &L_SHIP_ID}, {"run_kind", &L_RUN_KIND}, {"mode", &L_MODE}, {"organisation", &L_ORG},
        {"factor", &L_FACTOR}, {"instrument", &L_INSTRUMENT}, {"text", &L_TEXT}, {"event_id", &L_EVENT_ID}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        PyObject *v = PyDict_GetItemString(limits, named[i].name);
        if (!v) { PyErr_Format(PyExc_KeyError, "limit %s", named[i].name); return NULL; }
        Py_ssize_t x = PyLong_AsSsize_t(v);
        if (x == -1 && PyErr_Occurred()) return NULL;
        *named[i].var = x;
    }
    PyObject *gs1 = PyDict_GetItemString(limits, "gs1_prefix");
    if (!gs1 || !PyUnicode_CheckExact(gs1)) { PyErr_SetString(PyExc_KeyError, "gs1_prefix: a str"); return NULL; }
    PyObject *chars = PyDict_GetItemString(limits, "gs1_lot_chars");
    if (!PyUnicode_IS_ASCII(gs1) || !chars || !PyUnicode_CheckExact(chars) || !PyUnicode_IS_ASCII(chars)) {
        PyErr_SetString(PyExc_KeyError, "gs1_prefix and gs1_lot_chars: ASCII texts");
        return NULL;
    }
    memset(Gs1Lot, 0, sizeof Gs1Lot);
    for (Py_ssize_t k = 0; k < PyUnicode_GET_LENGTH(chars); k++) Gs1Lot[PyUnicode_1BYTE_DATA(chars)[k]] = 1;
    Gs1PrefixLen = PyUnicode_GET_LENGTH(gs1);
    Py_XSETREF(Gs1Prefix, Py_NewRef(gs1));
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


/* ---------------------------------------------------------------------------------------------------------------
 * The rules of a run (PythonFastChecker.check_run) on its usual path, for accept_plain below: run_rules_impl(st,
 * run, event_id) first checks, without changing anything, that every rule holds in the plain way (known site, new run
 * id, inputs known, live, produced before the run, distinct, at the run's site with nothing later there, within
 * the over-consumption limit; outputs new, of known material and site, assays within 0..1; declared losses >= 0;
 * every element clearly inside its balance tolerance or absent everywhere; no input with a failing certificate),
 * and only then records the run as the Python checker would (custody movements, consumption, output lots) and
 * returns 1. Anything else returns 0 with nothing changed, and the Python checker then applies the rules
 * and words the problems. Property tests: tests/unit/test_fastcheck.py (same problems, events and state as the
 * reference checker on generated documents).
 * ------------------------------------------------------------------------------------------------------------- */

static PyObject *EventType, *s_event, *s_location, *s_body, *s_time;
static PyObject *MovementType, *DocLotType, *MoveDescr[5], *DocDescr[6], *s_consumed_mg, *s_event_id, *s_at;

enum { ST_DOC_RUNS, ST_STORED_RUNS, ST_DOC_SITES, ST_STORED_SITES, ST_DOC_MATERIALS, ST_STORED_MATERIALS,
       ST_DOC_LOTS, ST_STORED_LOTS, ST_RETRACTING, ST_STORED_RETRACTED, ST_MOVES, ST_TOTAL, ST_LAST, ST_MASS,
       ST_COAS, ST_STATUS, ST_ELEMENTS, ST_RATIOS, ST_DEFAULT_RATIO, ST_CONSUMPTION_RATIO, ST_ORIGINS,
       ST_DOC_SHIPS, ST_STORED_SHIPS, ST_DOC_EVENTS, ST_DOC_KINDS, ST_STORED_EVENTS, ST_LATER_LOTS, ST_DOC_USES,
       ST_LO, ST_HI, ST_N };

#define MAX_IO 64
#define MAX_EL 16

typedef __int128 i128;

/* `key in container`: 1, 0, or -1 on error */
static int contains(PyObject *c, PyObject *key) {
    if (PyAnySet_Check(c)) return PySet_Contains(c, key);
    if (PyDict_Check(c)) return PyDict_Contains(c, key);
    return PySequence_Contains(c, key);
}

/* attribute as exact int within 64 bits */
static int attr_i64(PyObject *o, PyObject *name, long long *out) {
    PyObject *v = GET(o, name);
    if (!v) { PyErr_Clear(); return 0; }
    int ok = as_i64(v, out);
    Py_DECREF(v);
    return ok;
}

/* (p, q) of a tuple of two exact ints */
static int ratio_of(PyObject *t, long long *p, long long *q) {
    return t && PyTuple_CheckExact(t) && PyTuple_GET_SIZE(t) == 2 && as_i64(PyTuple_GET_ITEM(t, 0), p)
           && as_i64(PyTuple_GET_ITEM(t, 1), q) && *q > 0;
}

/* the Python checker's clearly_inside(i, o, loss, p, q, slack) in 128-bit integers (all operands bounded so that
 * nothing overflows: i, o, loss < 2^100, p, q < 2^20) */
static int clearly_inside_128(i128 i, i128 o, i128 loss, long long p, long long q, i128 slack) {
    i128 allowed = (i128)p * i + slack;
    i128 d = i - o - loss;
    if (d < 0) d = -d;
    i128 e20 = (i128)100000000000LL * (i128)1000000000LL;
    return i > 0 && p >= 0 && d * q <= allowed - allowed / e20 - 1;
}

/* a movement (lot, site, at, mass_mg, ref) made through the frozen dataclass's slot descriptors */
static PyObject *new_movement(PyObject *lot, PyObject *site, PyObject *at, long long mass, PyObject *ref) {
    PyObject *m = ((PyTypeObject *)MovementType)->tp_alloc((PyTypeObject *)MovementType, 0);
    if (!m) return NULL;
    PyObject *mg = PyLong_FromLongLong(mass);
    PyObject *vals[5] = {lot, site, at, mg, ref};
    int rc = mg ? 0 : -1;
    for (int k = 0; rc == 0 && k < 5; k++) rc = Py_TYPE(MoveDescr[k])->tp_descr_set(MoveDescr[k], m, vals[k]);
    Py_XDECREF(mg);
    if (rc < 0) { Py_DECREF(m); return NULL; }
    return m;
}

typedef struct {
    PyObject *lot;      /* borrowed from the run */
    PyObject *doc;      /* borrowed: the document's record of the lot, or NULL */
    PyObject *stored;   /* borrowed: the stored lot state when doc is NULL */
    PyObject *key;      /* new: (lot, site) */
    long long mg, consumed, have;
    int later;          /* 1 when the run starts after the last movement of the lot at the site */
    PyObject *assay;    /* new reference */
    PyObject *moves;    /* new reference: the lot's movements in the custody book */
} Input;

/* the limit of a lot mass: mass + floor(mass x p / q), the consumption tolerance as a ratio whose Decimal product
 * is exact (see FastChecker.rules_state), so the value the Python checker's limit() computes; 0 when the mass or the
 * ratio is negative or the limit leaves 64 bits (the Python checker then decides) */
static int limit_of(long long mass, long long cp, long long cq, long long *out) {
    if (mass < 0 || cp < 0 || cq <= 0) return 0;
    i128 lim = (i128)mass + ((i128)mass * cp) / cq;
    if (lim > (i128)LLONG_MAX) return 0;
    *out = (long long)lim;
    return 1;
}

/* element sums of one assay into acc[] (mass x fraction), 0 if the assay is not a dict of bounded exact ints */
static int add_assay(PyObject *assay, long long mass, PyObject *elements, i128 *acc) {
    if (!PyDict_CheckExact(assay)) return 0;
    Py_ssize_t ne = PyTuple_GET_SIZE(elements);
    for (Py_ssize_t j = 0; j < ne; j++) {
        PyObject *v = PyDict_GetItemWithError(assay, PyTuple_GET_ITEM(elements, j));
        if (!v) { if (PyErr_Occurred()) { PyErr_Clear(); return 0; } continue; }
        long long x;
        if (!as_i64(v, &x) || x < 0 || x > 4000000000LL) return 0;
        acc[j] += (i128)mass * x;
    }
    return 1;
}

/* the custody book's add (FastCustodyBook.add) of a movement already made: moves, total and last (``known``: the
 * lot's movement list when the caller holds it, else NULL) */
static int book_add(PyObject *const *st, PyObject *lot, PyObject *site, PyObject *at, long long mg, PyObject *m,
                    PyObject *known) {
    PyObject *list = known ? known : PyDict_GetItemWithError(st[ST_MOVES], lot);
    int rc = 0;
    if (list) rc = PyList_Append(list, m);
    else if (PyErr_Occurred()) rc = -1;
    else {
        PyObject *fresh = PyList_New(1);
        if (!fresh) return -1;
        PyList_SET_ITEM(fresh, 0, Py_NewRef(m));
        rc = PyDict_SetItem(st[ST_MOVES], lot, fresh);
        Py_DECREF(fresh);
    }
    if (rc < 0) return -1;
    PyObject *key = PyTuple_Pack(2, lot, site);
    if (!key) return -1;
    PyObject *t = PyDict_GetItemWithError(st[ST_TOTAL], key);
    long long have = 0, sum;
    if (t) { if (!as_i64(t, &have)) rc = -1; }
    else if (PyErr_Occurred()) rc = -1;
    if (rc == 0 && __builtin_add_overflow(have, mg, &sum)) rc = -1;
    if (rc == 0) {
        PyObject *v = PyLong_FromLongLong(sum);
        rc = v ? PyDict_SetItem(st[ST_TOTAL], key, v) : -1;
        Py_XDECREF(v);
    }
    if (rc == 0) {
        PyObject *last = PyDict_GetItemWithError(st[ST_LAST], key);
        if (!last && PyErr_Occurred()) rc = -1;
        else if (!last) rc = PyDict_SetItem(st[ST_LAST], key, at);
        else {
            int later = PyObject_RichCompareBool(at, last, Py_GT);
            rc = later < 0 ? -1 : later ? PyDict_SetItem(st[ST_LAST], key, at) : 0;
        }
    }
    Py_DECREF(key);
    return rc;
}

/* A lot's own rules (FastChecker.check_lot_fields) hold: an exact Lot with a non-empty id new to the ledger and
 * the document, known material and site, a positive mass, a valid origin, fractions within 0..1 summing to at most
 * 1, produced at or after t_min (a run's start; -1: any time); its element masses are added to osum when given. */
static int lot_fields_ok(PyObject *const *st, PyObject *o, long long t_min, i128 *osum) {
    if (Py_TYPE(o) != (PyTypeObject *)LotType) return 0;
    PyObject *oid = GET(o, s_id), *mat = GET(o, s_material), *osite = GET(o, s_site), *origin = GET(o, s_origin),
             *at = GET(o, s_produced_at), *assay = GET(o, s_assay);
    long long mass = 0, tk = at ? time_key(at) : -1;
    int fine = oid && mat && osite && origin && at && assay && PyUnicode_CheckExact(oid)
               && PyUnicode_GET_LENGTH(oid) > 0 && contains(st[ST_DOC_LOTS], oid) == 0
               && contains(st[ST_STORED_LOTS], oid) == 0 && attr_i64(o, s_mass_mg, &mass) && mass > 0
               && (contains(st[ST_DOC_MATERIALS], mat) == 1 || contains(st[ST_STORED_MATERIALS], mat) == 1)
               && (contains(st[ST_DOC_SITES], osite) == 1 || contains(st[ST_STORED_SITES], osite) == 1)
               && contains(st[ST_ORIGINS], origin) == 1 && tk >= 0 && tk >= t_min && PyDict_CheckExact(assay);
    if (fine) {  /* every fraction within 0..1 and their sum at most 1 */
        Py_ssize_t pos = 0;
        PyObject *e, *v;
        long long total = 0, x;
        while (fine && PyDict_Next(assay, &pos, &e, &v)) {
            fine = as_i64(v, &x) && x >= 0 && x <= 1000000000LL;
            total += fine ? x : 0;
        }
        fine = fine && total <= 1000000000LL && (!osum || add_assay(assay, mass, st[ST_ELEMENTS], osum));
    }
    Py_XDECREF(oid); Py_XDECREF(mat); Py_XDECREF(osite); Py_XDECREF(origin); Py_XDECREF(at); Py_XDECREF(assay);
    if (PyErr_Occurred()) PyErr_Clear();
    return fine;
}

/* FastChecker.register_lot: the lot joins the document's lots, its mass the custody book, and its production is
 * a movement into its site. 0, or -1 on an error (short of memory). */
static int register_lot(PyObject *const *st, PyObject *o, PyObject *ref) {
    PyObject *oid = GET(o, s_id), *mass = GET(o, s_mass_mg), *assay = GET(o, s_assay), *at = GET(o, s_produced_at),
             *osite = GET(o, s_site), *d = NULL, *zero = PyLong_FromLong(0), *m = NULL;
    int rc = oid && mass && assay && at && osite && zero ? 0 : -1;
    if (rc == 0 && !(d = ((PyTypeObject *)DocLotType)->tp_alloc((PyTypeObject *)DocLotType, 0))) rc = -1;
    PyObject *vals[6] = {mass, assay, at, osite, ref, zero};
    for (int f = 0; rc == 0 && f < 6; f++) rc = Py_TYPE(DocDescr[f])->tp_descr_set(DocDescr[f], d, vals[f]);
    if (rc == 0) rc = PyDict_SetItem(st[ST_DOC_LOTS], oid, d);
    if (rc == 0) rc = PyDict_SetItem(st[ST_MASS], oid, mass);
    long long mg = 0;
    if (rc == 0 && !as_i64(mass, &mg)) rc = -1;
    if (rc == 0 && !(m = new_movement(oid, osite, at, mg, ref))) rc = -1;
    if (rc == 0) rc = book_add(st, oid, osite, at, mg, m, NULL);
    Py_XDECREF(oid); Py_XDECREF(mass); Py_XDECREF(assay); Py_XDECREF(at); Py_XDECREF(osite); Py_XDECREF(d);
    Py_XDECREF(zero); Py_XDECREF(m);
    if (rc < 0 && !PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "register_lot failed");
    return rc;
}

/* 1: the run met every rule and is recorded; 0: nothing changed; -1: an error (the state partly written) */
static int run_rules_impl(PyObject *const *st, PyObject *run, PyObject *ref) {
    PyObject *rid = NULL, *site = NULL, *start = NULL, *end = NULL, *ins = NULL, *outs = NULL, *losses = NULL,
             *kind = NULL;
    Input in[MAX_IO];
    int nin = 0, ok = 0;
    Py_ssize_t ne = PyTuple_GET_SIZE(st[ST_ELEMENTS]);
    i128 isum[MAX_EL] = {0}, osum[MAX_EL] = {0};
    if (Py_TYPE(run) != (PyTypeObject *)RunType || ne > MAX_EL || !PyTuple_CheckExact(st[ST_ELEMENTS])) return 0;

#define NEED(x) do { if (!(x)) goto done; } while (0)
    NEED(rid = GET(run, s_id));
    NEED(site = GET(run, s_site));
    NEED(start = GET(run, s_started_at));
    NEED(end = GET(run, s_ended_at));
    NEED(ins = GET(run, s_inputs));
    NEED(outs = GET(run, s_outputs));
    NEED(losses = GET(run, s_losses_mg));
    NEED(kind = GET(run, s_kind));
    NEED(PyUnicode_CheckExact(rid) && PyUnicode_CheckExact(site) && PyUnicode_CheckExact(ref));
    NEED(contains(st[ST_DOC_RUNS], rid) == 0 && contains(st[ST_STORED_RUNS], rid) == 0);
    NEED(contains(st[ST_DOC_SITES], site) == 1 || contains(st[ST_STORED_SITES], site) == 1);
    long long t_start = time_key(start), t_end = time_key(end);
    NEED(t_start >= 0 && t_end >= t_start);
    PyObject **iv, **ov;
    Py_ssize_t ni, no;
    NEED(seq_items(ins, &iv, &ni) == 0 && seq_items(outs, &ov, &no) == 0);
    NEED(ni > 0 && no > 0 && ni <= MAX_IO && no <= MAX_IO);
    /* outputs: well-formed new lots made after the start, distinct */
    for (Py_ssize_t k = 0; k < no; k++) {
        PyObject *oid = GET(ov[k], s_id);
        NEED(oid);
        int fine = 1;
        for (Py_ssize_t j = 0; fine && j < k; j++) {
            PyObject *other = GET(ov[j], s_id);
            fine = other && PyUnicode_Check(oid) && PyUnicode_Compare(other, oid) != 0;
            Py_XDECREF(other);
        }
        Py_DECREF(oid);
        NEED(fine && lot_fields_ok(st, ov[k], t_start, osum));
    }
    /* inputs */
    for (Py_ssize_t k = 0; k < ni; k++) {
        Input *x = &in[nin];
        memset(x, 0, sizeof *x);
        NEED((x->lot = GET(iv[k], s_lot)) != NULL);
        Py_DECREF(x->lot);  /* the consumption keeps it alive: borrowed from here on */
        NEED(PyUnicode_CheckExact(x->lot) && attr_i64(iv[k], s_mass_mg, &x->mg) && x->mg > 0);
        nin++;
        for (int j = 0; j < nin - 1; j++) NEED(PyUnicode_Compare(in[j].lot, x->lot) != 0);
        for (Py_ssize_t j = 0; j < no; j++) {
            PyObject *oid = GET(ov[j], s_id);
            int same = oid && PyUnicode_Compare(oid, x->lot) == 0;
            Py_XDECREF(oid);
            NEED(oid && !same);
        }
        /* no certificate on record, or one without failures */
        PyObject *coas = PyDict_GetItemWithError(st[ST_COAS], x->lot);
        if (!coas && PyErr_Occurred()) goto done;
        if (coas) {
            int t = PyObject_IsTrue(coas);
            NEED(t >= 0);
            if (t) {
                PyObject *status = PyObject_CallOneArg(st[ST_STATUS], x->lot);
                NEED(status);
                int failing = status != Py_None;
                if (failing) failing = !PyTuple_Check(status) || PyTuple_GET_SIZE(status) != 2
                                       || PyObject_IsTrue(PyTuple_GET_ITEM(status, 1)) != 0;
                Py_DECREF(status);
                NEED(!failing);
            }
        }
        x->doc = PyDict_GetItemWithError(st[ST_DOC_LOTS], x->lot);
        if (!x->doc && PyErr_Occurred()) goto done;
        PyObject *rec = x->doc;
        if (!rec) {
            NEED(PyDict_CheckExact(st[ST_STORED_LOTS]));
            x->stored = PyDict_GetItemWithError(st[ST_STORED_LOTS], x->lot);
            NEED(x->stored);
            rec = x->stored;
        }
        long long mass, consumed;
        PyObject *eid = GET(rec, s_event_id), *at = NULL;
        NEED(eid);
        int live = contains(st[ST_RETRACTING], eid) == 0 && contains(st[ST_STORED_RETRACTED], eid) == 0;
        Py_DECREF(eid);
        NEED(live);
        NEED(attr_i64(rec, s_mass_mg, &mass) && attr_i64(rec, s_consumed_mg, &consumed));
        NEED((at = GET(rec, s_produced_at)) != NULL);
        long long t_made = time_key(at);
        Py_DECREF(at);
        NEED(t_made >= 0 && t_made <= t_start);
        NEED((x->assay = GET(rec, s_assay)) != NULL);
        NEED(add_assay(x->assay, x->mg, st[ST_ELEMENTS], isum));
        /* custody: the lot's stock at the run's site, nothing later there, enough of it */
        NEED((x->key = PyTuple_Pack(2, x->lot, site)) != NULL);
        PyObject *last = PyDict_GetItemWithError(st[ST_LAST], x->key);
        NEED(last);
        long long t_last = time_key(last);
        NEED(t_last >= 0 && t_start >= t_last);
        x->later = t_start > t_last;
        PyObject *have = PyDict_GetItemWithError(st[ST_TOTAL], x->key);
        NEED(have && as_i64(have, &x->have) && x->mg <= x->have);
        x->moves = Py_XNewRef(PyDict_GetItemWithError(st[ST_MOVES], x->lot));
        NEED(x->moves && PyList_CheckExact(x->moves));
        /* over-consumption */
        long long cp, cq, lim;
        NEED(ratio_of(st[ST_CONSUMPTION_RATIO], &cp, &cq));
        NEED(limit_of(mass, cp, cq, &lim));
        NEED(!__builtin_add_overflow(consumed, x->mg, &x->consumed) && x->consumed <= lim);
    }
    /* declared losses: element -> exact int >= 0 */
    NEED(PyDict_CheckExact(losses));
    {
        Py_ssize_t pos = 0;
        PyObject *e, *v;
        long long x;
        while (PyDict_Next(losses, &pos, &e, &v)) NEED(as_i64(v, &x) && x >= 0);
    }
    /* the element balance, clearly inside the tolerance of the run's kind */
    {
        long long p, q;
        PyObject *r = PyDict_GetItemWithError(st[ST_RATIOS], kind);
        if (!r && PyErr_Occurred()) goto done;
        NEED(ratio_of(r ? r : st[ST_DEFAULT_RATIO], &p, &q) && p >= 0 && p < (1 << 20) && q < (1 << 20));
        i128 slack = (i128)(1 + no) * 1000000000 * q;
        for (Py_ssize_t j = 0; j < ne; j++) {
            long long l = 0;
            PyObject *lv = PyDict_GetItemWithError(losses, PyTuple_GET_ITEM(st[ST_ELEMENTS], j));
            if (!lv && PyErr_Occurred()) goto done;
            if (lv) NEED(as_i64(lv, &l));
            i128 loss = (i128)l * 1000000000;
            if (isum[j] == 0) NEED(osum[j] == 0 && loss == 0);
            else NEED(clearly_inside_128(isum[j], osum[j], loss, p, q, slack));
        }
    }
    /* every rule holds: record the run as the Python checker does */
    for (int k = 0; k < nin; k++) {
        Input *x = &in[k];
        PyObject *m = new_movement(x->lot, site, start, -x->mg, ref);
        NEED(m);
        int rc = PyList_Append(x->moves, m);
        Py_DECREF(m);
        PyObject *left = PyLong_FromLongLong(x->have - x->mg);
        rc = rc < 0 || !left || PyDict_SetItem(st[ST_TOTAL], x->key, left) < 0 ? -1 : 0;
        Py_XDECREF(left);
        if (rc == 0 && x->later) rc = PyDict_SetItem(st[ST_LAST], x->key, start);
        NEED(rc == 0);
        PyObject *used = PyLong_FromLongLong(x->consumed);
        NEED(used);
        if (x->doc) {
            rc = PyObject_SetAttr(x->doc, s_consumed_mg, used);
        } else {  /* the stored lot enters the document's records, with its assay copied */
            PyObject *d = ((PyTypeObject *)DocLotType)->tp_alloc((PyTypeObject *)DocLotType, 0);
            PyObject *assay = PyDict_Copy(x->assay);
            PyObject *mass = GET(x->stored, s_mass_mg), *at = GET(x->stored, s_produced_at),
                     *ssite = GET(x->stored, s_site), *eid = GET(x->stored, s_event_id);
            rc = d && assay && mass && at && ssite && eid ? 0 : -1;
            PyObject *vals[6] = {mass, assay, at, ssite, eid, used};
            for (int f = 0; rc == 0 && f < 6; f++) rc = Py_TYPE(DocDescr[f])->tp_descr_set(DocDescr[f], d, vals[f]);
            if (rc == 0) rc = PyDict_SetItem(st[ST_DOC_LOTS], x->lot, d);
            Py_XDECREF(d); Py_XDECREF(assay); Py_XDECREF(mass); Py_XDECREF(at); Py_XDECREF(ssite); Py_XDECREF(eid);
        }
        Py_DECREF(used);
        NEED(rc == 0);
    }
    for (Py_ssize_t k = 0; k < no; k++) {  /* register each output lot at its site */
        if (register_lot(st, ov[k], ref) < 0) {  /* short of memory only: the state is partly written */
            ok = -1;
            goto done;
        }
    }
    if (PySet_Add(st[ST_DOC_RUNS], rid) < 0) { ok = -1; goto done; }
    ok = 1;
done:
#undef NEED
    for (int k = 0; k < nin; k++) { Py_XDECREF(in[k].key); Py_XDECREF(in[k].assay); Py_XDECREF(in[k].moves); }
    Py_XDECREF(rid); Py_XDECREF(site); Py_XDECREF(start); Py_XDECREF(end); Py_XDECREF(ins); Py_XDECREF(outs);
    Py_XDECREF(losses); Py_XDECREF(kind);
    if (ok < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "run_rules: the run was partly recorded");
        return -1;
    }
    if (PyErr_Occurred()) PyErr_Clear();
    return ok;
}



/* The rules of a shipment (PythonFastChecker.check_shipment) on its usual path, as run_rules_impl for a run: a new
 * shipment id, known sites, a distance >= 0, a live lot produced before it is shipped, a positive mass that is at
 * the origin with nothing later there; then the movements out of the origin and into the destination. */
static int shipment_rules_impl(PyObject *const *st, PyObject *s, PyObject *ref) {
    if (Py_TYPE(s) != (PyTypeObject *)ShipmentType || !PyUnicode_CheckExact(ref)) return 0;
    PyObject *sid = NULL, *lot = NULL, *from = NULL, *to = NULL, *at = NULL, *dist = NULL, *key = NULL, *zero = NULL;
    int ok = 0;
    long long mg;
#define NEED(x) do { if (!(x)) goto done; } while (0)
    NEED(sid = GET(s, s_id));
    NEED(lot = GET(s, s_lot));
    NEED(from = GET(s, s_from_site));
    NEED(to = GET(s, s_to_site));
    NEED(at = GET(s, s_shipped_at));
    NEED(dist = GET(s, s_distance_km));
    NEED(PyUnicode_CheckExact(sid) && PyUnicode_CheckExact(lot) && PyUnicode_CheckExact(from)
         && PyUnicode_CheckExact(to));
    NEED(contains(st[ST_DOC_SHIPS], sid) == 0 && contains(st[ST_STORED_SHIPS], sid) == 0);
    NEED(contains(st[ST_DOC_SITES], from) == 1 || contains(st[ST_STORED_SITES], from) == 1);
    NEED(contains(st[ST_DOC_SITES], to) == 1 || contains(st[ST_STORED_SITES], to) == 1);
    NEED((PyObject *)Py_TYPE(dist) == DecimalType && (zero = PyLong_FromLong(0)) != NULL);
    NEED(PyObject_RichCompareBool(dist, zero, Py_GE) == 1);
    PyObject *rec = PyDict_GetItemWithError(st[ST_DOC_LOTS], lot);
    if (!rec) {
        NEED(!PyErr_Occurred() && PyDict_CheckExact(st[ST_STORED_LOTS]));
        NEED((rec = PyDict_GetItemWithError(st[ST_STORED_LOTS], lot)) != NULL);
    }
    PyObject *eid = GET(rec, s_event_id);
    NEED(eid);
    int live = contains(st[ST_RETRACTING], eid) == 0 && contains(st[ST_STORED_RETRACTED], eid) == 0;
    Py_DECREF(eid);
    NEED(live);
    PyObject *made = GET(rec, s_produced_at);
    NEED(made);
    long long t_made = time_key(made), t_ship = time_key(at);
    Py_DECREF(made);
    NEED(t_made >= 0 && t_ship >= t_made);
    NEED(attr_i64(s, s_mass_mg, &mg) && mg > 0);
    NEED((key = PyTuple_Pack(2, lot, from)) != NULL);
    PyObject *last = PyDict_GetItemWithError(st[ST_LAST], key);
    NEED(last);
    long long t_last = time_key(last), have;
    NEED(t_last >= 0 && t_ship >= t_last);
    PyObject *total = PyDict_GetItemWithError(st[ST_TOTAL], key);
    NEED(total && as_i64(total, &have) && mg <= have);
    PyObject *moves = PyDict_GetItemWithError(st[ST_MOVES], lot);
    NEED(moves && PyList_CheckExact(moves));
    /* every rule holds: take it out of the origin, put it into the destination */
    PyObject *m = new_movement(lot, from, at, -mg, ref);
    int rc = m ? PyList_Append(moves, m) : -1;
    Py_XDECREF(m);
    if (rc == 0) {
        PyObject *left = PyLong_FromLongLong(have - mg);
        rc = left ? PyDict_SetItem(st[ST_TOTAL], key, left) : -1;
        Py_XDECREF(left);
    }
    if (rc == 0 && t_ship > t_last) rc = PyDict_SetItem(st[ST_LAST], key, at);
    if (rc == 0) {
        PyObject *in = new_movement(lot, to, at, mg, ref);
        rc = in ? book_add(st, lot, to, at, mg, in, moves) : -1;
        Py_XDECREF(in);
    }
    if (rc == 0) rc = PySet_Add(st[ST_DOC_SHIPS], sid);
    ok = rc == 0 ? 1 : -1;
done:
#undef NEED
    Py_XDECREF(sid); Py_XDECREF(lot); Py_XDECREF(from); Py_XDECREF(to); Py_XDECREF(at); Py_XDECREF(dist);
    Py_XDECREF(key); Py_XDECREF(zero);
    if (ok < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "shipment_rules: the shipment was partly recorded");
        return -1;
    }
    if (PyErr_Occurred()) PyErr_Clear();
    return ok;
}


/* A lot, run or shipment event of the document on its usual path (FastChecker.check): a new event id (printable
 * ASCII within its limit) not on record, a time inside the ledger's window, a body the compiled screen clears and
 * whose rules the compiled rules accept and record; then the document's records of the event. Returns the
 * canonical payload, or None with nothing changed (the Python checker then takes the event). */
static int ready(PyObject *state, const char *usage) {
    if (!PyTuple_CheckExact(state) || PyTuple_GET_SIZE(state) != ST_N) {
        PyErr_SetString(PyExc_TypeError, usage);
        return 0;
    }
    if (!MovementType || !Elements || !EventType) {
        PyErr_SetString(PyExc_RuntimeError, "lichain.core._hotpath: setup, setup_screen and setup_rules first");
        return 0;
    }
    return 1;
}

/* one located event: its payload (accepted and recorded), None (nothing changed), or NULL (an error) */
static PyObject *accept_one(PyObject *const *st, PyObject *le) {
    PyObject *ev = NULL, *loc = NULL, *body = NULL, *eid = NULL, *t = NULL, *kind = NULL, *payload = NULL;
    int ok = 0;
    Buf b;
    buf_init(&b);
#define NEED(x) do { if (!(x)) goto done; } while (0)
    NEED(ev = GET(le, s_event));
    NEED(Py_TYPE(ev) == (PyTypeObject *)EventType);
    NEED(loc = GET(le, s_location));
    NEED(body = GET(ev, s_body));
    PyObject *tb = (PyObject *)Py_TYPE(body);
    NEED(tb == RunType || tb == ShipmentType || tb == LotType);
    NEED(eid = GET(ev, s_event_id));
    NEED(PyUnicode_CheckExact(eid) && PyUnicode_IS_ASCII(eid) && PyUnicode_GET_LENGTH(eid) <= L_EVENT_ID);
    {
        const unsigned char *c = PyUnicode_1BYTE_DATA(eid);
        for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(eid); i < n; i++) NEED(c[i] >= 0x20 && c[i] < 0x7f);
    }
    Window w = {time_key(st[ST_LO]), time_key(st[ST_HI])};
    NEED(t = GET(ev, s_time));
    long long tk = time_key(t);
    NEED(w.lo >= 0 && w.hi >= 0 && tk >= w.lo && tk <= w.hi);
    NEED(contains(st[ST_DOC_EVENTS], eid) == 0 && contains(st[ST_STORED_EVENTS], eid) == 0);
    NEED((tb == RunType ? put_run(&b, body) : tb == LotType ? put_lot(&b, body) : put_shipment(&b, body)) == 0);
    NEED(payload = PyUnicode_DecodeUTF8(b.p, b.n, "strict"));
    NEED((b.n <= L_TEXT ? bytes_plain((const unsigned char *)b.p, b.n) : payload_plain(payload))
         && (tb == RunType ? run_ok(body, &w) : tb == LotType ? lot_ok(body, &w) : shipment_ok(body, &w)));
    NEED(kind = GET(ev, s_kind));
    int r = tb == RunType ? run_rules_impl(st, body, eid)
            : tb == LotType ? (lot_fields_ok(st, body, -1, NULL) ? (register_lot(st, body, eid) < 0 ? -1 : 1) : 0)
            : shipment_rules_impl(st, body, eid);
    if (r < 0) { ok = -1; goto done; }
    NEED(r == 1);
    /* accepted: the document's records of the event (as the Python checker keeps them) */
    ok = -1;
    if (PyDict_SetItem(st[ST_DOC_EVENTS], eid, loc) < 0 || PyDict_SetItem(st[ST_DOC_KINDS], eid, kind) < 0
        || (tb != LotType && PyDict_SetItem(st[ST_DOC_USES], eid, body) < 0))
        goto done;
    if (tb == RunType) {
        PyObject *outs = GET(body, s_outputs), **ov;
        Py_ssize_t no;
        if (!outs) goto done;
        int rc = seq_items(outs, &ov, &no);
        for (Py_ssize_t k = 0; rc == 0 && k < no; k++) {
            PyObject *oid = GET(ov[k], s_id);
            if (!oid) { rc = -1; break; }
            int has = PyDict_Contains(st[ST_LATER_LOTS], oid);
            rc = has < 0 ? -1 : has ? PyDict_DelItem(st[ST_LATER_LOTS], oid) : 0;
            Py_DECREF(oid);
        }
        Py_DECREF(outs);
        if (rc < 0) goto done;
    }
    ok = 1;
done:
#undef NEED
    buf_free(&b);
    Py_XDECREF(ev); Py_XDECREF(loc); Py_XDECREF(body); Py_XDECREF(eid); Py_XDECREF(t); Py_XDECREF(kind);
    if (ok < 0) {
        Py_XDECREF(payload);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "accept_plain: the event was partly recorded");
        return NULL;
    }
    if (ok == 1) return payload;
    Py_XDECREF(payload);
    if (PyErr_Occurred()) PyErr_Clear();
    Py_RETURN_NONE;
}

static PyObject *accept_plain(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !ready(args[0], "accept_plain(state, located_event)")) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "accept_plain(state, located_event)");
        return NULL;
    }
    return accept_one(&PyTuple_GET_ITEM(args[0], 0), args[1]);
}

/* accept_plain over events[start:] (a list or tuple of located events): each accepted event's Event and payload
 * appended to ``accepted`` and ``payloads``, up to the first event it declines; returns that event's index (or the
 * number of events). FastChecker.check then gives the declined event to the Python checker and goes on after it. */
static PyObject *accept_from(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    static const char usage[] = "accept_from(state, events, start, accepted, payloads)";
    if (nargs != 5 || !ready(args[0], usage) || !(PyList_CheckExact(args[1]) || PyTuple_CheckExact(args[1]))
        || !PyLong_CheckExact(args[2]) || !PyList_CheckExact(args[3]) || !PyList_CheckExact(args[4])) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, usage);
        return NULL;
    }
    PyObject *const *st = &PyTuple_GET_ITEM(args[0], 0);
    PyObject *events = args[1], *accepted = args[3], *payloads = args[4];
    Py_ssize_t i = PyLong_AsSsize_t(args[2]);
    if (i < 0) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "start >= 0");
        return NULL;
    }
    for (; i < PySequence_Fast_GET_SIZE(events); i++) {
        PyObject *le = Py_NewRef(PySequence_Fast_GET_ITEM(events, i));
        PyObject *p = accept_one(st, le), *ev = NULL;
        int rc = !p ? -1 : p == Py_None ? 1 : 0;
        if (rc == 0) {
            ev = GET(le, s_event);
            rc = ev && PyList_Append(accepted, ev) == 0 && PyList_Append(payloads, p) == 0 ? 0 : -1;
        }
        Py_XDECREF(p); Py_XDECREF(ev); Py_DECREF(le);
        if (rc < 0) return NULL;
        if (rc == 1) break;
    }
    return PyLong_FromSsize_t(i);
}

static PyObject *setup_rules(PyObject *self, PyObject *args) {
    PyObject *movement, *doclot, *mdescr, *ddescr, *event;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!", &PyType_Type, &movement, &PyType_Type, &doclot, &PyTuple_Type, &mdescr,
                          &PyTuple_Type, &ddescr, &PyType_Type, &event))
        return NULL;
    Py_XSETREF(EventType, Py_NewRef(event));
    if (PyTuple_GET_SIZE(mdescr) != 5 || PyTuple_GET_SIZE(ddescr) != 6) {
        PyErr_SetString(PyExc_ValueError, "setup_rules: 5 movement and 6 document-lot slot descriptors");
        return NULL;
    }
    for (int k = 0; k < 5; k++) {
        PyObject *d = PyTuple_GET_ITEM(mdescr, k);
        if (!Py_TYPE(d)->tp_descr_set) { PyErr_SetString(PyExc_TypeError, "not a slot descriptor"); return NULL; }
        Py_XSETREF(MoveDescr[k], Py_NewRef(d));
    }
    for (int k = 0; k < 6; k++) {
        PyObject *d = PyTuple_GET_ITEM(ddescr, k);
        if (!Py_TYPE(d)->tp_descr_set) { PyErr_SetString(PyExc_TypeError, "not a slot descriptor"); return NULL; }
        Py_XSETREF(DocDescr[k], Py_NewRef(d));
    }
    Py_XSETREF(DocLotType, Py_NewRef(doclot));
    Py_XSETREF(MovementType, Py_NewRef(movement));
    Py_RETURN_NONE;
}


/* The references of a document's lots, runs and shipments (the first loop of the checker's prefetch), for the
 * exact model types only: scan(events, ids, lots, sites, materials, runs, ships, later_lots) adds each such event's
 * id to ids, the ids each lot, run or shipment names to the sets, each run output's id to later_lots (the first
 * run of the document making it, as the checker's start does), and returns the events of every other kind (or
 * of a subclass), which the Python loop then reads. An unhashable id raises as set.add would. */
static PyObject *scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 8 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "scan(events, ids, lots, sites, materials, runs, ships, later_lots)");
        return NULL;
    }
    PyObject *ids = args[1], *lots = args[2], *sites = args[3], *materials = args[4], *runs = args[5],
             *ships = args[6], *later = args[7];
    if (!PyAnySet_CheckExact(lots) || !PyAnySet_CheckExact(sites) || !PyAnySet_CheckExact(materials)
        || !PyAnySet_CheckExact(runs) || !PyAnySet_CheckExact(ships) || !PyDict_CheckExact(later)) {
        PyErr_SetString(PyExc_TypeError, "scan: sets and a dict expected");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "scan: events must be a sequence");
    if (!seq) return NULL;
    PyObject *others = PyList_New(0);
    int rc = others ? 0 : -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t k = 0; rc == 0 && k < n; k++) {
        PyObject *le = PySequence_Fast_GET_ITEM(seq, k);
        PyObject *ev = GET(le, s_event), *b = NULL, *eid = NULL;
        int plain = 1;
        if (!ev || !(b = GET(ev, s_body)) || !(eid = GET(ev, s_event_id))) {
            rc = -1;
        } else if (Py_TYPE(b) == (PyTypeObject *)RunType) {
            PyObject *site = GET(b, s_site), *rid = GET(b, s_id), *ins = GET(b, s_inputs), *outs = GET(b, s_outputs);
            PyObject **it;
            Py_ssize_t m;
            rc = site && rid && ins && outs && PySet_Add(sites, site) == 0 && PySet_Add(runs, rid) == 0 ? 0 : -1;
            if (rc == 0 && seq_items(ins, &it, &m) < 0) rc = 1;  /* not a tuple: the Python loop */
            for (Py_ssize_t i = 0; rc == 0 && i < m; i++) {
                PyObject *lot = GET(it[i], s_lot);
                rc = lot && PySet_Add(lots, lot) == 0 ? 0 : -1;
                Py_XDECREF(lot);
            }
            if (rc == 0 && seq_items(outs, &it, &m) < 0) rc = 1;
            for (Py_ssize_t i = 0; rc == 0 && i < m; i++) {
                PyObject *oid = GET(it[i], s_id), *osite = GET(it[i], s_site), *mat = GET(it[i], s_material);
                rc = oid && osite && mat && PySet_Add(lots, oid) == 0 && PySet_Add(sites, osite) == 0
                     && PySet_Add(materials, mat) == 0 && PyDict_SetDefault(later, oid, rid) ? 0 : -1;
                Py_XDECREF(oid); Py_XDECREF(osite); Py_XDECREF(mat);
            }
            if (rc == 1) { plain = 0; rc = PyList_Append(others, le); }
            Py_XDECREF(site); Py_XDECREF(rid); Py_XDECREF(ins); Py_XDECREF(outs);
        } else if (Py_TYPE(b) == (PyTypeObject *)LotType) {
            PyObject *id = GET(b, s_id), *site = GET(b, s_site), *mat = GET(b, s_material);
            rc = id && site && mat && PySet_Add(lots, id) == 0 && PySet_Add(sites, site) == 0
                 && PySet_Add(materials, mat) == 0 ? 0 : -1;
            Py_XDECREF(id); Py_XDECREF(site); Py_XDECREF(mat);
        } else if (Py_TYPE(b) == (PyTypeObject *)ShipmentType) {
            PyObject *id = GET(b, s_id), *lot = GET(b, s_lot), *from = GET(b, s_from_site), *to = GET(b, s_to_site);
            rc = id && lot && from && to && PySet_Add(ships, id) == 0 && PySet_Add(lots, lot) == 0
                 && PySet_Add(sites, from) == 0 && PySet_Add(sites, to) == 0 ? 0 : -1;
            Py_XDECREF(id); Py_XDECREF(lot); Py_XDECREF(from); Py_XDECREF(to);
        } else {
            plain = 0;
            rc = PyList_Append(others, le);
        }
        if (rc == 0 && plain) rc = PyList_Append(ids, eid);
        Py_XDECREF(ev); Py_XDECREF(b); Py_XDECREF(eid);
    }
    Py_DECREF(seq);
    if (rc < 0) { Py_XDECREF(others); return NULL; }
    return others;
}

static PyObject *setup_types(PyObject *self, PyObject *types) {
    if (!PyTuple_CheckExact(types)) { PyErr_SetString(PyExc_TypeError, "setup_types(tuple of types)"); return NULL; }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(types); k++)
        if (!PyType_Check(PyTuple_GET_ITEM(types, k))) { PyErr_SetString(PyExc_TypeError, "not a type"); return NULL; }
    PyObject *all = ModelTypes ? PySequence_Concat(ModelTypes, types) : Py_NewRef(types);
    if (!all) return NULL;
    memset(attr_cache, 0, sizeof attr_cache);
    Py_XSETREF(ModelTypes, all);
    Py_RETURN_NONE;
}

/* FastCustodyBook.__init__'s loop: the stored movements (a dict of lot -> list of Movement) into the book's moves
 * (a copy of each list), total and last per (lot, site), as CustodyBook.add records each. Returns True; False when
 * an entry is not of that form or a total leaves 64 bits (the book's dicts may then be partly filled: the Python
 * loop clears them and decides). */
static PyObject *book_load(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyDict_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2])
        || !PyDict_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "book_load(stored, moves, total, last): four dicts");
        return NULL;
    }
    if (!MovementType) {
        PyErr_SetString(PyExc_RuntimeError, "lichain.core._hotpath: setup_rules first");
        return NULL;
    }
    PyObject *stored = args[0], *moves = args[1], *total = args[2], *last = args[3], *lot, *v;
    Py_ssize_t pos = 0;
    int ok = 1;
    while (ok == 1 && PyDict_Next(stored, &pos, &lot, &v)) {
        if (!PyList_CheckExact(v)) { ok = 0; break; }
        Py_ssize_t n = PyList_GET_SIZE(v);
        if (!n) continue;
        PyObject *ms = PyList_GetSlice(v, 0, n);
        if (!ms || PyDict_SetItem(moves, lot, ms) < 0) { Py_XDECREF(ms); return NULL; }
        for (Py_ssize_t j = 0; ok == 1 && j < n; j++) {
            PyObject *m = PyList_GET_ITEM(ms, j), *site = NULL, *at = NULL, *key = NULL;
            long long mg, have = 0, sum;
            if (Py_TYPE(m) != (PyTypeObject *)MovementType || !(site = GET(m, s_site)) || !(at = GET(m, s_at))
                || !attr_i64(m, s_mass_mg, &mg) || !(key = PyTuple_Pack(2, lot, site))) {
                ok = PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_AttributeError) ? -1 : 0;
            } else {
                PyObject *t = PyDict_GetItemWithError(total, key);
                if (!t && PyErr_Occurred()) ok = -1;
                else if (t && !as_i64(t, &have)) ok = 0;
                else if (__builtin_add_overflow(have, mg, &sum)) ok = 0;
                else {
                    PyObject *x = PyLong_FromLongLong(sum);
                    ok = x && PyDict_SetItem(total, key, x) == 0 ? 1 : -1;
                    Py_XDECREF(x);
                }
                if (ok == 1) {
                    PyObject *l = PyDict_GetItemWithError(last, key);
                    int later = l ? PyObject_RichCompareBool(at, l, Py_GT) : PyErr_Occurred() ? -1 : 1;
                    if (later < 0) ok = PyErr_ExceptionMatches(PyExc_TypeError) ? 0 : -1;
                    else if (later && PyDict_SetItem(last, key, at) < 0) ok = -1;
                }
            }
            Py_XDECREF(site); Py_XDECREF(at); Py_XDECREF(key);
        }
        Py_DECREF(ms);
    }
    if (ok < 0) return NULL;
    if (PyErr_Occurred()) PyErr_Clear();
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(events, ids, lots, sites, materials, runs, ships, later_lots) -> list: the references of the lots, "
     "runs and shipments of a document; the events of every other kind."},
    {"setup_types", setup_types, METH_O,
     "setup_types(types): more of the model's slotted classes, whose slots are then read directly (kept alive)."},
    {"setup", setup, METH_VARARGS, "setup(Lot, Run, Shipment, UTC, dec, Decimal): the model's types, the decimal writer and its type."},
    {"payload", payload, METH_O,
     "payload(body) -> str | None: the canonical JSON of a lot, run or shipment; None where the Python writer "
     "must decide."},
    {"setup_screen", setup_screen, METH_VARARGS,
     "setup_screen(elements, ruled_keys, time_suffixes, lot_id_ok, cleared, limits, safe_kg): the screen's bounds."},
    {"screen", (PyCFunction)(void (*)(void))screen, METH_FASTCALL,
     "screen(body, payload, lo, hi) -> bool: True only when the field screen certainly clears the body."},
    {"setup_rules", setup_rules, METH_VARARGS,
     "setup_rules(Movement, DocLot, movement_slots, doclot_slots, Event): the types the rules read and record."},
    {"book_load", (PyCFunction)(void (*)(void))book_load, METH_FASTCALL,
     "book_load(stored, moves, total, last) -> bool: the stored movements into a custody book's dicts; False: "
     "the Python loop decides."},
    {"accept_from", (PyCFunction)(void (*)(void))accept_from, METH_FASTCALL,
     "accept_from(state, events, start, accepted, payloads) -> int: accept_plain from events[start], appending "
     "each accepted Event and payload, up to the first event it declines (its index)."},
    {"accept_plain", (PyCFunction)(void (*)(void))accept_plain, METH_FASTCALL,
     "accept_plain(state, located_event) -> str | None: the payload of a lot, run or shipment event accepted and "
     "recorded on its usual path; None: nothing changed, the Python checker takes it."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "lichain.core._hotpath",
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
    INTERN(s_mass, "mass"); INTERN(s_consumed_mg, "consumed_mg"); INTERN(s_event_id, "event_id");
    INTERN(s_at, "at"); INTERN(s_event, "event"); INTERN(s_location, "location"); INTERN(s_body, "body");
    INTERN(s_time, "time");
    return PyModule_Create(&module);
}
