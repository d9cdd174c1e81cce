/* The rows of lots, runs and shipments in compiled code: the tuples lichain.storage.fastrows.event_tuples builds
 * for them (and so the rows lichain.storage.rows.event_rows builds), chain and record hashes included.
 *
 * Why this exists: once payloads are written in compiled code (core/_hotpath.c), building the rows of an event is
 * the largest Python stage left in bulk ingest (about 8 µs per event on the demo chain: two SHA-256 links, one tuple
 * per row, one decimal text per quantity). Here a maximal stretch of lots, runs and shipments is written in one
 * call. The builder declines an event (stops before it, leaving nothing of it written) whenever a value is not of
 * the plain type the ledger's model gives it: an event, body or nested record of another type (subclasses
 * included), an id that is not an exact str, a time that is not an exact datetime in UTC, a counter or amount
 * that is not an exact int, a quantity that is not an exact Decimal, a container that is not a tuple (the model's
 * sequences) or a dict, a lot id missing from the index, a text that cannot be encoded (a lone surrogate); the
 * Python builder then decides, raising where it raises. Quantities are written as rows.py's _d writes them
 * (format(d.normalize(), "f"), "-0" kept), from the Decimal's own text where that is exact, else by _d itself,
 * passed in by setup(); fastrows calls the builder only with the store's chain hash and time converter and under a
 * decimal context that cannot round such a text.
 *
 * Property tests: tests/unit/test_fastrows.py (compiled, Python and reference rows are the same).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <string.h>

#include "../core/_hotcommon.h"
#ifdef Py_T_OBJECT_EX
#define OBJECT_EX Py_T_OBJECT_EX
#else
#include <structmember.h>
#define OBJECT_EX T_OBJECT_EX
#endif


static PyObject *EventType, *LotType, *RunType, *ShipmentType, *ActivityType, *ElectricityType, *FuelType,
    *ReagentType, *ConsumptionType, *DecimalType, *Utc, *DFunc, *Sha256, *Kinds;
static PyObject *s_hexdigest, *s_economic, *c_electricity, *c_kwh, *c_fuel, *c_MJ, *c_reagent, *c_kg, *c_water,
    *c_m3, *c_process, *c_kg_co2e;


/* ---- SHA-256, hex (hashlib.sha256(data).hexdigest()) ---------------------------------------------------------- */

/* The digests are OpenSSL's (libcrypto, the library hashlib itself uses), called directly: through hashlib each
 * digest costs a Python call and OpenSSL 3's lookup of the algorithm (about 0.8 µs, more than hashing a typical
 * event); here the algorithm is fetched once and one context is reused (the GIL is held from a digest's start to
 * its end, with no Python code in between). When setup() is told not to, hashlib's constructor (passed in by
 * setup()) does it. tests/unit/test_fastrows.py compares both with hashlib on texts of every length up to a few
 * blocks. */
#include <openssl/evp.h>

static EVP_MD *Sha256Md;
static EVP_MD_CTX *ShaCtx;

typedef struct { int unused; } Sha;

static int openssl_error(void) {
    PyErr_SetString(PyExc_RuntimeError, "OpenSSL's SHA-256 failed");
    return -1;
}

static int sha_init(Sha *h) {
    return EVP_DigestInit_ex2(ShaCtx, Sha256Md, NULL) == 1 ? 0 : openssl_error();
}

static int sha_update(Sha *h, const char *p, size_t n) {
    return EVP_DigestUpdate(ShaCtx, p, n) == 1 ? 0 : openssl_error();
}

/* the hex digest (a new str) */
static PyObject *sha_hex(Sha *h) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ShaCtx, md, &len) != 1 || len != 32) { openssl_error(); return NULL; }
    PyObject *hex = PyUnicode_New(64, 127);
    if (!hex) return NULL;
    Py_UCS1 *o = PyUnicode_1BYTE_DATA(hex);
    static const char digit[] = "0123456789abcdef";
    for (unsigned k = 0; k < 32; k++) {
        *o++ = (Py_UCS1)digit[md[k] >> 4];
        *o++ = (Py_UCS1)digit[md[k] & 15];
    }
    return hex;
}

/* fetch the algorithm and make the context once: 1 when OpenSSL's SHA-256 is there */
static int openssl_ready(void) {
    if (!Sha256Md) Sha256Md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (Sha256Md && !ShaCtx) ShaCtx = EVP_MD_CTX_new();
    return Sha256Md && ShaCtx;
}

static int native_sha = 0;  /* set by setup(): the compiled digest is used */

/* The text hashed, streamed into the compiled digest or gathered for hashlib's. */
typedef struct {
    Sha sha;
    Buf *b;
} Digest;

static int dg_init(Digest *d, Buf *b) {
    d->b = b;
    b->n = 0;
    return native_sha ? sha_init(&d->sha) : 0;
}

static int dg_put(Digest *d, const char *p, Py_ssize_t n) {
    if (!native_sha) return put(d->b, p, n);
    return sha_update(&d->sha, p, (size_t)n);
}

#define DG_LIT(d, s) dg_put((d), (s), (Py_ssize_t)(sizeof(s) - 1))

/* the UTF-8 bytes of an exact str, as str.encode() gives them (-1 with an error for a lone surrogate) */
static int dg_text(Digest *d, PyObject *s) {
    if (!PyUnicode_CheckExact(s)) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (!u) return -1;
    return dg_put(d, u, n);
}

/* hashlib.sha256(text).hexdigest() */
static PyObject *dg_hex(Digest *d) {
    if (native_sha) return sha_hex(&d->sha);
    PyObject *data = PyBytes_FromStringAndSize(d->b->p, d->b->n);
    if (!data) return NULL;
    PyObject *h = PyObject_CallOneArg(Sha256, data);
    Py_DECREF(data);
    if (!h) return NULL;
    PyObject *hex = PyObject_CallMethodNoArgs(h, s_hexdigest);
    Py_DECREF(h);
    if (hex && !PyUnicode_CheckExact(hex)) Py_CLEAR(hex);
    return hex;
}


/* ---- values ---------------------------------------------------------------------------------------------------- */

static inline int is_utc(PyObject *t) {
    return PyDateTime_CheckExact(t) && PyDateTime_DATE_GET_TZINFO(t) == Utc;
}

/* the codec's format_time of an exact datetime in UTC (a new str), or NULL */
static PyObject *time_text(PyObject *t) {
    if (!is_utc(t)) return NULL;
    char s[32];
    return PyUnicode_FromStringAndSize(s, time_chars(t, s));
}

/* days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil) */
static long long days_from_civil(long long y, int m, int d) {
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* storage.fastrows.to_us of an exact datetime in UTC: (t - 1970-01-01T00:00Z) in whole microseconds (a new int),
 * or NULL. Both operands share the tzinfo, so the difference is that of the naive fields. */
static PyObject *us_of(PyObject *t) {
    if (!is_utc(t)) return NULL;
    long long days = days_from_civil(PyDateTime_GET_YEAR(t), PyDateTime_GET_MONTH(t), PyDateTime_GET_DAY(t));
    long long s = days * 86400LL + PyDateTime_DATE_GET_HOUR(t) * 3600LL + PyDateTime_DATE_GET_MINUTE(t) * 60LL
                  + PyDateTime_DATE_GET_SECOND(t);
    return PyLong_FromLongLong(s * 1000000LL + PyDateTime_DATE_GET_MICROSECOND(t));
}

/* rows.py's _d(d) = format(d.normalize(), "f"), keeping a zero's sign */
static int put_decimal(Buf *b, PyObject *d) { return put_decimal_text(b, d, 1); }

/* _d(d) of an exact Decimal (a new str), or NULL */
static PyObject *dec_text(PyObject *d) {
    if ((PyObject *)Py_TYPE(d) != DecimalType || PyErr_Occurred()) return NULL;
    Buf b;
    buf_init(&b);
    PyObject *r = NULL;
    if (put_decimal(&b, d) == 0) r = PyUnicode_DecodeASCII(b.p, b.n, "strict");
    buf_free(&b);
    if (r) return r;
    PyErr_Clear();
    r = PyObject_CallOneArg(DFunc, d);
    if (r && !PyUnicode_CheckExact(r)) Py_CLEAR(r);
    return r;
}

/* ---- rows ------------------------------------------------------------------------------------------------------ */

enum { EV, LOTS, ASSAYS, ACTS, RUNS, CONS, SHIPS, LOSSES, NLISTS };

typedef struct {
    PyObject *list[NLISTS];      /* borrowed: the lists of event_tuples */
    PyObject *lot_idx, *target_seq;  /* borrowed */
    long long lot_next, run_next;
    PyObject *new_lots;          /* (id, idx) of the lots made: written to lot_idx once their event is whole */
} Ctx;

/* a tuple of n items, stealing every item; NULL (and every item released) when any item is NULL */
static PyObject *tup(Py_ssize_t n, PyObject **items) {
    int ok = 1;
    for (Py_ssize_t i = 0; i < n; i++) ok &= items[i] != NULL;
    PyObject *t = ok ? PyTuple_New(n) : NULL;
    if (!t) {
        for (Py_ssize_t i = 0; i < n; i++) Py_XDECREF(items[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, i, items[i]);
    return t;
}

/* append the tuple of the n (stolen) items to a list; -1 when any is NULL */
static int add(PyObject *list, Py_ssize_t n, PyObject **items) {
    PyObject *t = tup(n, items);
    if (!t) return -1;
    int rc = PyList_Append(list, t);
    Py_DECREF(t);
    return rc;
}

#define ROW(list, ...) add((list), (Py_ssize_t)(sizeof((PyObject *[]){__VA_ARGS__}) / sizeof(PyObject *)), \
                           (PyObject *[]){__VA_ARGS__})
#define REF(o) Py_NewRef(o)
/* The fields read, each a slot of a model class: read at the offset setup() finds in the class's member descriptor,
 * only ever from an instance of exactly that class. */
#define MEMBERS(X) \
    X(Event, body) X(Event, event_id) X(Event, kind) X(Event, time) X(Lot, id) X(Lot, produced_at) \
    X(Lot, material) X(Lot, site) X(Lot, mass_mg) X(Lot, origin) X(Lot, assay) X(Lot, activity) \
    X(Run, started_at) X(Run, ended_at) X(Run, id) X(Run, site) X(Run, kind) X(Run, inputs) X(Run, allocation) \
    X(Run, output_values) X(Run, outputs) X(Run, losses_mg) X(Run, activity) X(Consumption, lot) \
    X(Consumption, mass_mg) X(Shipment, lot) X(Shipment, shipped_at) X(Shipment, distance_km) X(Shipment, id) \
    X(Shipment, mass_mg) X(Shipment, from_site) X(Shipment, to_site) X(Shipment, mode) \
    X(Shipment, to_organisation) X(Activity, electricity) X(Activity, fuels) X(Activity, reagents) \
    X(Activity, water_m3) X(Activity, process_kg_co2e) X(Electricity, kwh) X(Electricity, source) \
    X(Electricity, factor_key) X(Electricity, instrument) X(Fuel, mj) X(Fuel, kind) X(Reagent, kg) \
    X(Reagent, name) X(Reagent, factor_key)

enum {
#define X(T, a) M_##T##_##a,
    MEMBERS(X)
#undef X
    NMEMBERS
};
static const char *const member_name[NMEMBERS] = {
#define X(T, a) #a,
    MEMBERS(X)
#undef X
};
static PyObject **const member_type[NMEMBERS] = {
#define X(T, a) &T##Type,
    MEMBERS(X)
#undef X
};
static Py_ssize_t member_offset[NMEMBERS];

/* field k of o, an instance of exactly its class (a new reference), or NULL: an unset slot, or an error already
 * pending (the items of a row are computed in no fixed order: once one fails, the others give up and the event is
 * declined) */
static inline PyObject *member(PyObject *o, int k) {
    if (PyErr_Occurred()) return NULL;
    PyObject *v = *(PyObject **)((char *)o + member_offset[k]);
    return v ? Py_NewRef(v) : NULL;
}

#define GET(o, T, a) member((o), M_##T##_##a)

/* (idx, key, value) for every item of an exact dict whose value, an exact int, is not zero */
static int nonzero_items(PyObject *list, PyObject *idx, PyObject *d) {
    if (!PyDict_CheckExact(d)) return -1;
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (!PyLong_CheckExact(v)) return -1;
        int t = PyObject_IsTrue(v);
        if (t < 0) return -1;
        /* the key and value are borrowed from the dict: references are taken before anything else runs */
        if (t && ROW(list, REF(idx), REF(k), REF(v)) < 0) return -1;
    }
    return 0;
}

/* a new reference to lot_idx[key] for an exact str key, or NULL when absent */
static PyObject *lot_index(Ctx *c, PyObject *key) {
    if (!PyUnicode_CheckExact(key) || PyErr_Occurred()) return NULL;
    PyObject *v = PyDict_GetItemWithError(c->lot_idx, key);
    return v ? Py_NewRef(v) : NULL;
}

/* one activity row per datum; run_idx and lot_idx borrowed (None for the other) */
static int activity_rows(Ctx *c, PyObject *a, PyObject *ridx, PyObject *lidx) {
    if ((PyObject *)Py_TYPE(a) != ActivityType) return -1;
    PyObject *l = c->list[ACTS], *v = NULL, **it;
    Py_ssize_t n;
    int rc = -1;
    if (!(v = GET(a, Activity, electricity)) || seq_items(v, &it, &n) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *e = it[i];
        if ((PyObject *)Py_TYPE(e) != ElectricityType) goto done;
        PyObject *kwh = GET(e, Electricity, kwh);
        if (!kwh) goto done;
        PyObject *amount = dec_text(kwh);
        Py_DECREF(kwh);
        if (ROW(l, REF(ridx), REF(lidx), REF(c_electricity), GET(e, Electricity, source), amount, REF(c_kwh),
                GET(e, Electricity, factor_key), GET(e, Electricity, instrument)) < 0)
            goto done;
    }
    Py_CLEAR(v);
    if (!(v = GET(a, Activity, fuels)) || seq_items(v, &it, &n) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *f = it[i];
        if ((PyObject *)Py_TYPE(f) != FuelType) goto done;
        PyObject *mj = GET(f, Fuel, mj);
        if (!mj) goto done;
        PyObject *amount = dec_text(mj);
        Py_DECREF(mj);
        if (ROW(l, REF(ridx), REF(lidx), REF(c_fuel), GET(f, Fuel, kind), amount, REF(c_MJ), REF(Py_None),
                REF(Py_None)) < 0)
            goto done;
    }
    Py_CLEAR(v);
    if (!(v = GET(a, Activity, reagents)) || seq_items(v, &it, &n) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *r = it[i];
        if ((PyObject *)Py_TYPE(r) != ReagentType) goto done;
        PyObject *kg = GET(r, Reagent, kg);
        if (!kg) goto done;
        PyObject *amount = dec_text(kg);
        Py_DECREF(kg);
        if (ROW(l, REF(ridx), REF(lidx), REF(c_reagent), GET(r, Reagent, name), amount, REF(c_kg),
                GET(r, Reagent, factor_key), REF(Py_None)) < 0)
            goto done;
    }
    Py_CLEAR(v);
    if (!(v = GET(a, Activity, water_m3))) goto done;
    if (v != Py_None && ROW(l, REF(ridx), REF(lidx), REF(c_water), REF(c_water), dec_text(v), REF(c_m3),
                            REF(Py_None), REF(Py_None)) < 0)
        goto done;
    Py_CLEAR(v);
    if (!(v = GET(a, Activity, process_kg_co2e))) goto done;
    if (v != Py_None && ROW(l, REF(ridx), REF(lidx), REF(c_process), REF(c_process), dec_text(v), REF(c_kg_co2e),
                            REF(Py_None), REF(Py_None)) < 0)
        goto done;
    rc = 0;
done:
    Py_XDECREF(v);
    return rc;
}

/* the rows of a lot (its lot row, assays and activity); run_idx borrowed (None for a lot event), value the
 * economic value of a run's output or NULL */
static int lot_rows(Ctx *c, PyObject *o, PyObject *ridx, PyObject *eseq, PyObject *value) {
    if ((PyObject *)Py_TYPE(o) != LotType) return -1;
    PyObject *id = NULL, *idx = NULL, *v = NULL;
    int rc = -1;
    if (!(id = GET(o, Lot, id)) || !PyUnicode_CheckExact(id)) goto done;
    if (c->lot_next == LLONG_MAX || !(idx = PyLong_FromLongLong(c->lot_next))) goto done;
    c->lot_next++;
    if (ROW(c->new_lots, REF(id), REF(idx)) < 0) goto done;
    if (!(v = GET(o, Lot, produced_at))) goto done;
    PyObject *produced = us_of(v);
    Py_CLEAR(v);
    PyObject *alloc = value == NULL || value == Py_None ? Py_NewRef(Py_None) : dec_text(value);
    if (ROW(c->list[LOTS], REF(idx), REF(id), GET(o, Lot, material), GET(o, Lot, site), produced,
            GET(o, Lot, mass_mg), GET(o, Lot, origin), REF(ridx), REF(eseq), alloc) < 0)
        goto done;
    if (!(v = GET(o, Lot, assay)) || nonzero_items(c->list[ASSAYS], idx, v) < 0) goto done;
    Py_CLEAR(v);
    if (!(v = GET(o, Lot, activity))) goto done;
    if (v != Py_None && activity_rows(c, v, Py_None, idx) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(id); Py_XDECREF(idx); Py_XDECREF(v);
    return rc;
}

static int run_rows(Ctx *c, PyObject *b, PyObject *eseq) {
    PyObject *ridx = NULL, *v = NULL, *values = NULL, **it;
    Py_ssize_t n;
    int rc = -1;
    if (c->run_next == LLONG_MAX || !(ridx = PyLong_FromLongLong(c->run_next))) goto done;
    c->run_next++;
    PyObject *started = NULL, *ended = NULL;
    if ((v = GET(b, Run, started_at))) started = us_of(v);
    Py_CLEAR(v);
    if ((v = GET(b, Run, ended_at))) ended = us_of(v);
    Py_CLEAR(v);
    if (ROW(c->list[RUNS], REF(ridx), GET(b, Run, id), GET(b, Run, site), GET(b, Run, kind), started, ended,
            REF(eseq)) < 0)
        goto done;
    if (!(v = GET(b, Run, inputs)) || seq_items(v, &it, &n) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *in = it[i];
        if ((PyObject *)Py_TYPE(in) != ConsumptionType) goto done;
        PyObject *lot = GET(in, Consumption, lot);
        if (!lot) goto done;
        PyObject *li = lot_index(c, lot);
        Py_DECREF(lot);
        if (ROW(c->list[CONS], REF(ridx), li, GET(in, Consumption, mass_mg)) < 0) goto done;
    }
    Py_CLEAR(v);
    if (!(v = GET(b, Run, allocation)) || !PyUnicode_CheckExact(v)) goto done;
    int economic = PyUnicode_Compare(v, s_economic) == 0;
    Py_CLEAR(v);
    if (economic && (!(values = GET(b, Run, output_values)) || !PyDict_CheckExact(values))) goto done;
    if (!(v = GET(b, Run, outputs)) || seq_items(v, &it, &n) < 0) goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = NULL;
        if (economic) {  /* output_values.get(o.id), for an exact Lot with an exact str id */
            if ((PyObject *)Py_TYPE(it[i]) != LotType) goto done;
            PyObject *id = GET(it[i], Lot, id);
            if (!id) goto done;
            if (PyUnicode_CheckExact(id)) {
                value = PyDict_GetItemWithError(values, id);
                if (!value && !PyErr_Occurred()) value = Py_None;
            }
            Py_DECREF(id);
            if (!value) goto done;
        }
        if (lot_rows(c, it[i], ridx, eseq, value) < 0) goto done;
    }
    Py_CLEAR(v);
    if (!(v = GET(b, Run, losses_mg)) || nonzero_items(c->list[LOSSES], ridx, v) < 0) goto done;
    Py_CLEAR(v);
    if (!(v = GET(b, Run, activity)) || activity_rows(c, v, ridx, Py_None) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(ridx); Py_XDECREF(v); Py_XDECREF(values);
    return rc;
}

static int shipment_rows(Ctx *c, PyObject *b, PyObject *sidx, PyObject *eseq) {
    PyObject *v, *li = NULL, *shipped = NULL, *dist = NULL;
    if ((v = GET(b, Shipment, lot))) { li = lot_index(c, v); Py_DECREF(v); }
    if ((v = GET(b, Shipment, shipped_at))) { shipped = us_of(v); Py_DECREF(v); }
    if ((v = GET(b, Shipment, distance_km))) { dist = dec_text(v); Py_DECREF(v); }
    return ROW(c->list[SHIPS], REF(sidx), GET(b, Shipment, id), li, GET(b, Shipment, mass_mg),
               GET(b, Shipment, from_site), GET(b, Shipment, to_site), shipped, GET(b, Shipment, mode), dist,
               GET(b, Shipment, to_organisation), REF(eseq));
}

/* the event kind's value (ev.kind.value), borrowed, for a member of EventKind; NULL for anything else */
static PyObject *kind_value(PyObject *kind) {
    Py_ssize_t n = PyTuple_GET_SIZE(Kinds);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(Kinds, i);
        if (PyTuple_GET_ITEM(pair, 0) == kind) return PyTuple_GET_ITEM(pair, 1);
    }
    return NULL;
}


typedef struct {
    long long seq, ship_next;
    PyObject *prev, *prev_record;  /* owned */
} Head;

/* Every row of one event, appended to the lists, and the heads moved on: 0; the event declined, with nothing of
 * it written: 1; an error that is not a refusal of the event (memory): -1. */
static int one_event(Ctx *c, Head *h, PyObject *ev, PyObject *payload, PyObject *recorded, PyObject *source) {
    Py_ssize_t marks[NLISTS];
    for (int k = 0; k < NLISTS; k++) marks[k] = PyList_GET_SIZE(c->list[k]);
    long long lot_next = c->lot_next, run_next = c->run_next;
    Py_ssize_t lots_mark = PyList_GET_SIZE(c->new_lots);
    PyObject *eid = NULL, *kind = NULL, *time = NULL, *body = NULL, *t = NULL, *seq = NULL, *chain = NULL,
             *record = NULL, *sidx = NULL;
    Buf b;
    buf_init(&b);
    int rc = 1;
    if ((PyObject *)Py_TYPE(ev) != EventType || !PyUnicode_CheckExact(payload)) goto done;
    if (!(body = GET(ev, Event, body))) goto done;
    PyObject *tb = (PyObject *)Py_TYPE(body);
    if (tb != LotType && tb != RunType && tb != ShipmentType) goto done;
    if (!(eid = GET(ev, Event, event_id)) || !PyUnicode_CheckExact(eid)) goto done;
    if (!(kind = GET(ev, Event, kind))) goto done;
    PyObject *kv = kind_value(kind);
    if (!kv || !(time = GET(ev, Event, time)) || !(t = time_text(time))) goto done;
    /* chain_hash(prev, event_id, kind, time, payload) */
    Digest d;
    if (dg_init(&d, &b) < 0) goto done;
    if (dg_text(&d, h->prev) < 0 || DG_LIT(&d, "\n") < 0 || dg_text(&d, eid) < 0 || DG_LIT(&d, "\n") < 0
        || dg_text(&d, kv) < 0 || DG_LIT(&d, "\n") < 0 || dg_text(&d, t) < 0 || DG_LIT(&d, "\n") < 0
        || dg_text(&d, payload) < 0 || !(chain = dg_hex(&d)))
        goto done;
    /* record_hash(prev_record, chain, recorded, source) */
    if (dg_init(&d, &b) < 0) goto done;
    if (dg_text(&d, h->prev_record) < 0 || DG_LIT(&d, "\n") < 0 || dg_text(&d, chain) < 0 || DG_LIT(&d, "\n") < 0
        || dg_text(&d, recorded) < 0 || DG_LIT(&d, "\n") < 0 || (source != Py_None && dg_text(&d, source) < 0)
        || !(record = dg_hex(&d)))
        goto done;
    if (h->seq == LLONG_MAX || h->ship_next == LLONG_MAX || !(seq = PyLong_FromLongLong(h->seq + 1))) goto done;
    if (ROW(c->list[EV], REF(seq), REF(eid), REF(kv), REF(t), REF(payload), REF(h->prev), REF(chain),
            REF(recorded), REF(source), REF(record)) < 0)
        goto done;
    if (tb == ShipmentType) {
        if (!(sidx = PyLong_FromLongLong(h->ship_next)) || shipment_rows(c, body, sidx, seq) < 0) goto done;
    } else if (tb == RunType) {
        if (run_rows(c, body, seq) < 0) goto done;
    } else if (lot_rows(c, body, Py_None, seq, NULL) < 0) {
        goto done;
    }
    /* the event is whole: the indexes it names and the heads */
    rc = -1;
    if (PyDict_SetItem(c->target_seq, eid, seq) < 0) goto done;
    Py_ssize_t n = PyList_GET_SIZE(c->new_lots);
    for (Py_ssize_t i = lots_mark; i < n; i++) {
        PyObject *pair = PyList_GET_ITEM(c->new_lots, i);
        if (PyDict_SetItem(c->lot_idx, PyTuple_GET_ITEM(pair, 0), PyTuple_GET_ITEM(pair, 1)) < 0) goto done;
    }
    h->seq++;
    if (tb == ShipmentType) h->ship_next++;
    Py_SETREF(h->prev, Py_NewRef(chain));
    Py_SETREF(h->prev_record, Py_NewRef(record));
    rc = 0;
done:
    buf_free(&b);
    Py_XDECREF(eid); Py_XDECREF(kind); Py_XDECREF(time); Py_XDECREF(body); Py_XDECREF(t); Py_XDECREF(seq);
    Py_XDECREF(chain); Py_XDECREF(record); Py_XDECREF(sidx);
    if (rc == 1) {  /* declined: nothing of the event stays */
        PyErr_Clear();
        c->lot_next = lot_next;
        c->run_next = run_next;
        for (int k = 0; k < NLISTS; k++)
            if (PyList_SetSlice(c->list[k], marks[k], PyList_GET_SIZE(c->list[k]), NULL) < 0) return -1;
    }
    return rc;
}

/* item i of a list or tuple (borrowed), or NULL past its end */
static inline PyObject *at(PyObject *seq, Py_ssize_t i) {
    if (PyList_CheckExact(seq)) return i < PyList_GET_SIZE(seq) ? PyList_GET_ITEM(seq, i) : NULL;
    return i < PyTuple_GET_SIZE(seq) ? PyTuple_GET_ITEM(seq, i) : NULL;
}

static PyObject *rows(PyObject *self, PyObject *args) {
    PyObject *events, *payloads, *o_seq, *prev, *prev_record, *o_lot, *o_run, *o_ship, *lot_idx, *target_seq,
        *recorded, *source, *lists;
    Py_ssize_t start;
    if (!PyArg_ParseTuple(args, "OOnOOOOOOOOOOO", &events, &payloads, &start, &o_seq, &prev, &prev_record, &o_lot,
                          &o_run, &o_ship, &lot_idx, &target_seq, &recorded, &source, &lists))
        return NULL;
    if (!Sha256) {
        PyErr_SetString(PyExc_RuntimeError, "lichain.storage._hotrows.setup() was not called");
        return NULL;
    }
    if (!PyTuple_CheckExact(lists) || PyTuple_GET_SIZE(lists) != NLISTS) {
        PyErr_SetString(PyExc_TypeError, "rows() needs a tuple of 8 lists");
        return NULL;
    }
    Ctx c = {.lot_idx = lot_idx, .target_seq = target_seq};
    Head h = {.prev = Py_NewRef(prev), .prev_record = Py_NewRef(prev_record)};
    Py_ssize_t pos = start;
    PyObject *out = NULL;
    int plain = 1;
    for (int k = 0; k < NLISTS; k++) {
        c.list[k] = PyTuple_GET_ITEM(lists, k);
        plain &= PyList_CheckExact(c.list[k]);
    }
    /* anything but the plain arguments of the ledger's store: the Python builder, from the first event */
    if (!plain || (!PyList_CheckExact(events) && !PyTuple_CheckExact(events))
        || (!PyList_CheckExact(payloads) && !PyTuple_CheckExact(payloads))
        || !PyDict_CheckExact(lot_idx) || !PyDict_CheckExact(target_seq) || !PyUnicode_CheckExact(recorded)
        || (source != Py_None && !PyUnicode_CheckExact(source)) || !PyUnicode_CheckExact(prev)
        || !PyUnicode_CheckExact(prev_record) || !as_i64(o_seq, &h.seq) || !as_i64(o_lot, &c.lot_next)
        || !as_i64(o_run, &c.run_next) || !as_i64(o_ship, &h.ship_next) || start < 0) {
        out = Py_BuildValue("nOOOOOO", start, o_seq, prev, prev_record, o_lot, o_run, o_ship);
        goto done;
    }
    if (!(c.new_lots = PyList_New(0))) goto done;
    for (;; pos++) {
        /* items are fetched afresh for each event (and held while it is read) */
        PyObject *ev = Py_XNewRef(at(events, pos)), *payload = Py_XNewRef(at(payloads, pos));
        int rc = ev && payload ? one_event(&c, &h, ev, payload, recorded, source) : 1;
        Py_XDECREF(ev);
        Py_XDECREF(payload);
        if (rc < 0) goto done;
        if (rc) break;
    }
    PyObject *seq = PyLong_FromLongLong(h.seq), *ln = PyLong_FromLongLong(c.lot_next),
             *rn = PyLong_FromLongLong(c.run_next), *sn = PyLong_FromLongLong(h.ship_next);
    if (seq && ln && rn && sn) out = Py_BuildValue("nOOOOOO", pos, seq, h.prev, h.prev_record, ln, rn, sn);
    Py_XDECREF(seq); Py_XDECREF(ln); Py_XDECREF(rn); Py_XDECREF(sn);
done:
    Py_XDECREF(c.new_lots);
    Py_XDECREF(h.prev);
    Py_XDECREF(h.prev_record);
    return out;
}

/* the offset of each named slot of a type (a member descriptor holding an object); -1 with TypeError if one is not */
static int slot_offsets(PyObject *type, const char *const *names, int n, Py_ssize_t *off) {
    for (int k = 0; k < n; k++) {
        PyObject *d = PyObject_GetAttrString(type, names[k]);
        if (!d) return -1;
        int ok = Py_IS_TYPE(d, &PyMemberDescr_Type) && ((PyMemberDescrObject *)d)->d_member->type == OBJECT_EX;
        if (ok) off[k] = ((PyMemberDescrObject *)d)->d_member->offset;
        Py_DECREF(d);
        if (!ok) {
            PyErr_Format(PyExc_TypeError, "%R.%s is not a slot", type, names[k]);
            return -1;
        }
    }
    return 0;
}

static PyObject *setup(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"event", "lot", "run", "shipment", "activity", "electricity", "fuel", "reagent",
                             "consumption", "decimal", "utc", "d", "sha256", "kinds", "native", NULL};
    PyObject *o[14];
    int native = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOOOOOOOOOO|p", kwlist, &o[0], &o[1], &o[2], &o[3], &o[4],
                                     &o[5], &o[6], &o[7], &o[8], &o[9], &o[10], &o[11], &o[12], &o[13], &native))
        return NULL;
    if (!PyTuple_CheckExact(o[13])) {
        PyErr_SetString(PyExc_TypeError, "kinds: a tuple of (member, value) pairs");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(o[13]); i++) {
        PyObject *pair = PyTuple_GET_ITEM(o[13], i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2
            || !PyUnicode_CheckExact(PyTuple_GET_ITEM(pair, 1))) {
            PyErr_SetString(PyExc_TypeError, "kinds: a tuple of (member, value) pairs");
            return NULL;
        }
    }
    PyObject **const slots[14] = {&EventType, &LotType, &RunType, &ShipmentType, &ActivityType, &ElectricityType,
                                  &FuelType, &ReagentType, &ConsumptionType, &DecimalType, &Utc, &DFunc, &Sha256,
                                  &Kinds};
    for (int k = 0; k < 14; k++) Py_XSETREF(*slots[k], Py_NewRef(o[k]));
    native_sha = native && openssl_ready();
    for (int k = 0; k < NMEMBERS; k++)  /* each field must be a slot of its class */
        if (slot_offsets(*member_type[k], &member_name[k], 1, &member_offset[k]) < 0) {
            Py_CLEAR(Sha256);  /* rows() refuses to run */
            return NULL;
        }
    Py_RETURN_NONE;
}

/* the digest rows() computes, for tests: hashlib.sha256(data).hexdigest() */
static PyObject *sha256_hex(PyObject *self, PyObject *arg) {
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "sha256_hex() needs bytes");
        return NULL;
    }
    if (!Sha256) {
        PyErr_SetString(PyExc_RuntimeError, "lichain.storage._hotrows.setup() was not called");
        return NULL;
    }
    /* fed in pieces of 1, 2, ... 64, 1, ... bytes: every way the pending block fills */
    Buf b;
    buf_init(&b);
    Digest d;
    if (dg_init(&d, &b) < 0) {
        buf_free(&b);
        return NULL;
    }
    const char *p = PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    for (Py_ssize_t at = 0, k = 1; at < n; at += k, k = k % 64 + 1)
        if (dg_put(&d, p + at, k < n - at ? k : n - at) < 0) {
            buf_free(&b);
            return NULL;
        }
    PyObject *hex = dg_hex(&d);
    buf_free(&b);
    return hex;
}

static PyObject *native_digest(PyObject *self, PyObject *noargs) { return PyBool_FromLong(native_sha); }

/* ---------------------------------------------------------------------------------------------------------------
 * Kept lots (lichain.storage.writer_memory): each one flat tuple (idx, mass_mg, produced_at, site, event_id, n, then
 * n (element, ppb) pairs, then its live movements as site, at, signed mass_mg, event id). kept_states(kept, ids)
 * makes, for the ids among ``ids`` (a list) that ``kept`` (a dict) holds, the LotState and the list of Movement the
 * Python code (WriterMemory._states) makes, the use from the signed masses as lichain.core.ports.use_of counts it,
 * and returns (states, movements, the ids not kept). It returns None when a kept tuple is not of that form or a use
 * does not fit in 64 bits: the Python code then decides. Tests: tests/integration/test_writer_memory.py (compiled
 * and Python answers are equal).
 * ------------------------------------------------------------------------------------------------------------- */
static PyTypeObject *KLotState, *KMovement;
static Py_ssize_t lot_off[9], move_off[5];
static const char *const lot_fields[9] = {"id", "mass_mg", "consumed_mg", "shipped_mg", "assay", "produced_at",
                                          "site", "event_id", "retracted"};
static const char *const move_fields[5] = {"lot", "site", "at", "mass_mg", "ref"};

static PyObject *setup_kept(PyObject *self, PyObject *args) {
    PyObject *lot_state, *movement;
    if (!PyArg_ParseTuple(args, "O!O!", &PyType_Type, &lot_state, &PyType_Type, &movement)) return NULL;
    Py_CLEAR(KLotState);
    Py_CLEAR(KMovement);
    if (slot_offsets(lot_state, lot_fields, 9, lot_off) < 0 || slot_offsets(movement, move_fields, 5, move_off) < 0)
        return NULL;
    KLotState = (PyTypeObject *)Py_NewRef(lot_state);
    KMovement = (PyTypeObject *)Py_NewRef(movement);
    Py_RETURN_NONE;
}

/* an instance of t with its n slots at off[] set to vals[] (as the slotted dataclass's own fields, without its
 * frozen __setattr__) */
static PyObject *slotted(PyTypeObject *t, const Py_ssize_t *off, PyObject *const *vals, int n) {
    PyObject *o = t->tp_alloc(t, 0);
    if (!o) return NULL;
    for (int k = 0; k < n; k++) *(PyObject **)((char *)o + off[k]) = Py_NewRef(vals[k]);
    return o;
}

/* the state and movements of one kept lot into states[id] and moves[id]: 0; 1: not of the kept form; -1: error */
static int one_kept(PyObject *id, PyObject *k, PyObject *states, PyObject *moves) {
    if (!PyTuple_CheckExact(k) || PyTuple_GET_SIZE(k) < 6) return 1;
    PyObject *const *f = &PyTuple_GET_ITEM(k, 0);
    Py_ssize_t size = PyTuple_GET_SIZE(k);
    long long mass, n;
    if (!as_i64(f[1], &mass) || !as_i64(f[5], &n) || n < 0 || n > (size - 6) / 2) return 1;
    Py_ssize_t moved = 6 + 2 * (Py_ssize_t)n;
    if ((size - moved) % 4) return 1;
    Py_ssize_t nm = (size - moved) / 4;
    __int128 gained = 0, taken = 0;
    for (Py_ssize_t j = 0; j < nm; j++) {
        long long m;
        if (!as_i64(f[moved + 4 * j + 2], &m)) return 1;
        if (m > 0) gained += m;
        else taken -= m;
    }
    __int128 shipped = gained - mass, consumed = taken - shipped;
    if (shipped > LLONG_MAX || shipped < LLONG_MIN || consumed > LLONG_MAX || consumed < LLONG_MIN) return 1;
    int rc = -1;
    PyObject *list = PyList_New(nm), *assay = PyDict_New(), *c = PyLong_FromLongLong((long long)consumed),
             *s = PyLong_FromLongLong((long long)shipped), *state = NULL;
    if (!list || !assay || !c || !s) goto done;
    for (Py_ssize_t j = 0; j < n; j++)
        if (PyDict_SetItem(assay, f[6 + 2 * j], f[7 + 2 * j]) < 0) goto done;
    for (Py_ssize_t j = 0; j < nm; j++) {
        PyObject *const *mv = f + moved + 4 * j;
        PyObject *vals[5] = {id, mv[0], mv[1], mv[2], mv[3]};
        PyObject *m = slotted(KMovement, move_off, vals, 5);
        if (!m) goto done;
        PyList_SET_ITEM(list, j, m);
    }
    PyObject *vals[9] = {id, f[1], c, s, assay, f[2], f[3], f[4], Py_False};
    if (!(state = slotted(KLotState, lot_off, vals, 9))) goto done;
    if (PyDict_SetItem(states, id, state) < 0 || PyDict_SetItem(moves, id, list) < 0) goto done;
    rc = 0;
done:
    Py_XDECREF(list); Py_XDECREF(assay); Py_XDECREF(c); Py_XDECREF(s); Py_XDECREF(state);
    return rc;
}

static PyObject *kept_states(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 || !PyDict_Check(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "kept_states(kept: dict, ids: list)");
        return NULL;
    }
    if (!KLotState) {
        PyErr_SetString(PyExc_RuntimeError, "lichain.storage._hotrows.setup_kept() was not called");
        return NULL;
    }
    PyObject *kept = args[0], *ids = args[1];
    PyObject *states = PyDict_New(), *moves = PyDict_New(), *rest = PyList_New(0), *out = NULL;
    int rc = states && moves && rest ? 0 : -1;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(ids); i++) {
        PyObject *id = Py_NewRef(PyList_GET_ITEM(ids, i));
        PyObject *k = PyDict_GetItemWithError(kept, id);
        if (k) {
            Py_INCREF(k);
            rc = one_kept(id, k, states, moves);
            Py_DECREF(k);
        } else {
            rc = PyErr_Occurred() ? -1 : PyList_Append(rest, id);
        }
        Py_DECREF(id);
    }
    if (rc == 0) out = PyTuple_Pack(3, states, moves, rest);
    Py_XDECREF(states); Py_XDECREF(moves); Py_XDECREF(rest);
    if (rc == 1) Py_RETURN_NONE;
    return out;
}

/* WriterMemory._keep in compiled code. keep_lots(lots, made, new, stored, moves): for each (lot id, movements) of
 * ``moves`` (a dict), its record new.get(id) or stored.get(id) (skipped when neither), and the kept tuple (made.get(id,
 * the index kept before or None), mass_mg, produced_at, site, event_id, n, the n (element, value) pairs of the assay
 * whose value is not zero, then site, at, mass_mg, ref of each movement) put last into ``lots`` (an OrderedDict:
 * the lot kept before is taken out first). Attributes and items are read as the Python code reads them. */
static PyObject *s_mass_mg_k, *s_produced_at_k, *s_site_k, *s_event_id_k, *s_assay_k, *s_at_k, *s_ref_k;

static int keep_one(PyObject *lots, PyObject *made, PyObject *id, PyObject *rec, PyObject *ms) {
    int rc = -1;
    PyObject *items = NULL, *list = PyList_New(6), *old = NULL, *idx = NULL, *tuple = NULL, *assay = NULL;
    if (!list) return -1;
    old = PyDict_GetItemWithError(lots, id);  /* the underlying dict of the OrderedDict */
    if (old) Py_INCREF(old);
    else if (PyErr_Occurred()) goto done;
    idx = PyDict_GetItemWithError(made, id);
    if (idx) Py_INCREF(idx);
    else if (PyErr_Occurred()) goto done;
    else idx = Py_NewRef(old && PyTuple_Check(old) && PyTuple_GET_SIZE(old) ? PyTuple_GET_ITEM(old, 0) : Py_None);
    PyObject *names[4] = {s_mass_mg_k, s_produced_at_k, s_site_k, s_event_id_k};
    PyList_SET_ITEM(list, 0, idx);
    idx = NULL;
    for (int k = 0; k < 4; k++) {
        PyObject *v = PyObject_GetAttr(rec, names[k]);
        if (!v) goto done;
        PyList_SET_ITEM(list, 1 + k, v);
    }
    PyList_SET_ITEM(list, 5, PyLong_FromLong(0));
    if (!PyList_GET_ITEM(list, 5) || !(assay = PyObject_GetAttr(rec, s_assay_k))) goto done;
    if (!(items = PyMapping_Items(assay))) goto done;
    long n = 0;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(items); j++) {
        PyObject *pair = PyList_GET_ITEM(items, j);
        if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) { PyErr_SetString(PyExc_TypeError, "assay item"); goto done; }
        int t = PyObject_IsTrue(PyTuple_GET_ITEM(pair, 1));
        if (t < 0) goto done;
        if (!t) continue;
        if (PyList_Append(list, PyTuple_GET_ITEM(pair, 0)) < 0 || PyList_Append(list, PyTuple_GET_ITEM(pair, 1)) < 0)
            goto done;
        n++;
    }
    PyObject *count = PyLong_FromLong(n);
    if (!count) goto done;
    Py_SETREF(PyList_GET_ITEM(list, 5), count);
    PyObject *it = PyObject_GetIter(ms), *m;
    if (!it) goto done;
    PyObject *fields[4] = {s_site_k, s_at_k, s_mass_mg_k, s_ref_k};
    while ((m = PyIter_Next(it))) {
        int bad = 0;
        for (int k = 0; !bad && k < 4; k++) {
            PyObject *v = PyObject_GetAttr(m, fields[k]);
            bad = !v || PyList_Append(list, v) < 0;
            Py_XDECREF(v);
        }
        Py_DECREF(m);
        if (bad) break;
    }
    Py_DECREF(it);
    if (PyErr_Occurred()) goto done;
    if (!(tuple = PyList_AsTuple(list))) goto done;
    if (old && PyObject_DelItem(lots, id) < 0) goto done;
    rc = PyObject_SetItem(lots, id, tuple);
done:
    Py_XDECREF(items); Py_XDECREF(list); Py_XDECREF(old); Py_XDECREF(idx); Py_XDECREF(tuple); Py_XDECREF(assay);
    return rc;
}

static PyObject *keep_lots(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5 || !PyDict_Check(args[0]) || !PyDict_Check(args[1]) || !PyDict_Check(args[2])
        || !PyDict_Check(args[3]) || !PyDict_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError, "keep_lots(lots, made, new, stored, moves): dicts");
        return NULL;
    }
    PyObject *lots = args[0], *made = args[1], *new = args[2], *stored = args[3], *moves = args[4];
    PyObject *keys = PyDict_Keys(moves);  /* a snapshot: nothing here changes ``moves`` */
    if (!keys) return NULL;
    int rc = 0;
    for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(keys); i++) {
        PyObject *id = PyList_GET_ITEM(keys, i), *ms = PyDict_GetItemWithError(moves, id);
        if (!ms) { rc = -1; break; }
        Py_INCREF(ms);
        PyObject *rec = PyDict_GetItemWithError(new, id);
        int t = rec ? PyObject_IsTrue(rec) : (PyErr_Occurred() ? -1 : 0);
        if (t < 0) rc = -1;
        else if (!t) {
            rec = PyDict_GetItemWithError(stored, id);
            if (!rec && PyErr_Occurred()) rc = -1;
        }
        if (rc == 0 && rec) {
            Py_INCREF(rec);
            rc = keep_one(lots, made, id, rec, ms);
            Py_DECREF(rec);
        }
        Py_DECREF(ms);
    }
    Py_DECREF(keys);
    if (rc < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup", (PyCFunction)(void (*)(void))setup, METH_VARARGS | METH_KEYWORDS,
     "setup(Event, Lot, Run, Shipment, Activity, Electricity, Fuel, Reagent, Consumption, Decimal, UTC, d, sha256, "
     "kinds, native=True): the model's types, the decimal writer, the hash constructor and the event kinds' values; "
     "native=False: digests by the hash constructor instead of OpenSSL's libcrypto called directly."},
    {"sha256_hex", sha256_hex, METH_O, "sha256_hex(data) -> str: the hex SHA-256 digest, as rows() computes it."},
    {"native_digest", native_digest, METH_NOARGS,
     "native_digest() -> bool: digests are OpenSSL's, called directly, not through hashlib."},
    {"setup_kept", setup_kept, METH_VARARGS,
     "setup_kept(LotState, Movement): the slotted types kept_states() makes."},
    {"kept_states", (PyCFunction)(void (*)(void))kept_states, METH_FASTCALL,
     "kept_states(kept, ids) -> (states, movements, ids not kept) | None: the writer memory's kept lots among ids as "
     "LotState and lists of Movement (None: a kept lot the compiled code does not read; the Python code decides)."},
    {"keep_lots", (PyCFunction)(void (*)(void))keep_lots, METH_FASTCALL,
     "keep_lots(lots, made, new, stored, moves): the writer memory's kept tuples of the settled lots, put last."},
    {"rows", rows, METH_VARARGS,
     "rows(events, payloads, start, seq, prev, prev_record, lot_next, run_next, ship_next, lot_idx, target_seq, "
     "recorded, source, lists) -> (stop, seq, prev, prev_record, lot_next, run_next, ship_next): the rows of the "
     "lots, runs and shipments from events[start], appended to the 8 lists (events, lots, assays, activities, runs, "
     "consumptions, shipments, run_losses), up to the first event it declines (or the end)."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hotrows",
                                    "The rows of lots, runs and shipments in compiled code.", -1, methods, NULL, NULL,
                                    NULL, NULL};

#define INTERN(var, text) if (!((var) = PyUnicode_InternFromString(text))) return NULL

PyMODINIT_FUNC PyInit__hotrows(void) {
    PyDateTime_IMPORT;
    if (!PyDateTimeAPI) return NULL;
    INTERN(s_hexdigest, "hexdigest"); INTERN(s_economic, "economic");
    INTERN(c_electricity, "electricity"); INTERN(c_kwh, "kWh"); INTERN(c_fuel, "fuel"); INTERN(c_MJ, "MJ");
    INTERN(c_reagent, "reagent"); INTERN(c_kg, "kg"); INTERN(c_water, "water"); INTERN(c_m3, "m3");
    INTERN(s_mass_mg_k, "mass_mg"); INTERN(s_produced_at_k, "produced_at"); INTERN(s_site_k, "site");
    INTERN(s_event_id_k, "event_id"); INTERN(s_assay_k, "assay"); INTERN(s_at_k, "at"); INTERN(s_ref_k, "ref");
    INTERN(c_process, "process"); INTERN(c_kg_co2e, "kg CO2e");
    return PyModule_Create(&module);
}
