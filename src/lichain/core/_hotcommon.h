/* What the compiled hot path's two modules share (lichain/core/_hotpath.c, lichain/storage/_hotrows.c): a text
 * buffer that starts on the stack, fixed-width digits, and the exact text of a Decimal. Included by both; every
 * function is static, so each module has its own copy. */
#ifndef LICHAIN_HOTCOMMON_H
#define LICHAIN_HOTCOMMON_H

#include <Python.h>
#include <datetime.h>
#include <string.h>

typedef struct {
    char *p;
    Py_ssize_t n, cap;
    char stack[4096];
} Buf;

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

/* an exact int within 64 bits into *out: 1, else 0 (no error left set) */
static int as_i64(PyObject *v, long long *out) {
    if (!v || !PyLong_CheckExact(v)) return 0;
    int overflow;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) { PyErr_Clear(); return 0; }
    *out = x;
    return 1;
}

/* an exact tuple, as a borrowed item array (a list is declined: its items could move while they are read, should
 * anything run Python code) */
static int seq_items(PyObject *o, PyObject ***items, Py_ssize_t *n) {
    if (!PyTuple_CheckExact(o)) return -1;
    *items = &PyTuple_GET_ITEM(o, 0);
    *n = PyTuple_GET_SIZE(o);
    return 0;
}

/* the `width` decimal digits of v >= 0 at o; returns the end */
static inline char *digits(char *o, int v, int width) {
    for (int k = width - 1; k >= 0; k--) { o[k] = (char)('0' + v % 10); v /= 10; }
    return o + width;
}

/* the codec's format_time text of a datetime already known to be in UTC, into s (32 bytes); returns its length */
static Py_ssize_t time_chars(PyObject *t, char *s) {
    char *o = s;
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
    return o - s;
}

/* format(d.normalize(), "f") of a Decimal, from its str(): the coefficient's digits and exponent, trailing zeros
 * dropped, written in positional notation; a zero is "-0" when negative and signed_zero, else "0". Declined (-1,
 * then the Python converter decides): NaN and infinities, more than 28 significant digits (normalize() would round
 * them to the context's precision) and exponents beyond +-100. Callers use it only under a decimal context that
 * cannot round (lichain.core.fastcodec.plain_decimal_context). */
static int put_decimal_text(Buf *b, PyObject *d, int signed_zero) {
    PyObject *str = PyObject_Str(d);
    if (!str) return -1;
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(str, &n);
    int rc = -1;
    char dg[64];
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
            dg[nd++] = c;
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
    if (nd == 0) { rc = neg && signed_zero ? LIT(b, "-0") : LIT(b, "0"); goto done; }  /* zero, of any exponent */
    exp -= frac;  /* value = digits x 10^exp */
    while (nd > 1 && dg[nd - 1] == '0') { nd--; exp++; }
    if (exp > 100 || exp < -100) goto done;
    if (neg && LIT(b, "-") < 0) goto done;
    if (exp >= 0) {
        if (put(b, dg, nd) < 0) goto done;
        for (long k = 0; k < exp; k++) if (LIT(b, "0") < 0) goto done;
    } else if (nd > -exp) {
        if (put(b, dg, nd + exp) < 0 || LIT(b, ".") < 0 || put(b, dg + nd + exp, -exp) < 0) goto done;
    } else {
        if (LIT(b, "0.") < 0) goto done;
        for (long k = 0; k < -exp - nd; k++) if (LIT(b, "0") < 0) goto done;
        if (put(b, dg, nd) < 0) goto done;
    }
    rc = 0;
done:
    Py_DECREF(str);
    return rc;
}

#endif
