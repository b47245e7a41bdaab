/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* viommud.conf's text: UTF-8, JSON syntax as json-c reads it, and what
 * json-c lets through (single quotes, raw control characters, repeated
 * keys), with the line and column of what is wrong. */
#include "config-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void position(const char *text, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++; /* count characters, not UTF-8 continuation bytes */
		}
	}
}

__attribute__((format(printf, 4, 5))) static int fail_at(struct parser *p, int r, size_t off,
							  const char *fmt, ...)
{
	char why[256], where[64];
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	position(p->text, off, &line, &col);
	snprintf(where, sizeof(where), "line %zu, column %zu", line, col);
	return config_fail(p, r, where, "%s", why);
}

/* Length of the UTF-8 sequence at s (RFC 3629: no overlongs, surrogates or > U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	cp = s[0] & (0x7f >> n);
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int config_check_encoding(struct parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;

	if (p->len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return config_fail(p, -EINVAL, NULL,
				   "starts with a byte order mark; save it as UTF-8 without one");
	for (size_t i = 0; i < p->len;) {
		size_t n = utf8_len(s + i, p->len - i);

		if (!n)
			return fail_at(p, -EINVAL, i, "not valid UTF-8 (byte 0x%02x)", s[i]);
		if (!s[i])
			return fail_at(p, -EINVAL, i, "NUL byte in the file");
		i += n;
	}
	return 0;
}

/*
 * A top-level key as json-c reads it, escapes decoded as far as matching a
 * key name needs: a character beyond ASCII becomes 0x80, which no name has.
 * Writes at most size bytes and returns the decoded length, or SIZE_MAX when
 * the key holds a NUL (\u0000), where json-c would silently cut it short.
 * The text parsed, so every escape is complete.
 */
static size_t decode_key(const char *s, size_t len, char *out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned int c = (unsigned char)s[i];

		if (c == '\\' && i + 1 < len) {
			c = (unsigned char)s[++i];
			if (c == 'u' && i + 4 < len) {
				c = (unsigned int)strtoul(
					(char[5]){ s[i + 1], s[i + 2], s[i + 3], s[i + 4], '\0' },
					NULL, 16);
				i += 4;
			} else if (c && strchr("bfnrt", (int)c)) {
				c = (unsigned char)"\b\f\n\r\t"[strchr("bfnrt", (int)c) - "bfnrt"];
			}
		}
		if (c == 0)
			return SIZE_MAX;
		if (n < size)
			out[n] = (char)(c < 0x80 ? c : 0x80);
		n++;
	}
	return n;
}

/*
 * What json-c lets through even when strict: single-quoted strings and raw
 * control characters in strings. And json-c keeps only the last of repeated
 * keys, so catch a top-level key given twice, however its name is spelt
 * ("mock_devices" or "mock\u005fdevices"), and a key with a NUL in it, which
 * json-c would cut short ("mock_devices\u0000x" would be "mock_devices").
 * The text parsed, so it is JSON up to those quirks.
 */
int config_check_text(struct parser *p)
{
	size_t seen[CONFIG_KEYS_MAX] = { 0 }; /* offset + 1 of each key's first appearance */
	const char *t = p->text;
	int depth = 0;

	for (size_t i = 0; i < p->len; i++) {
		size_t start, end, k, n;
		const struct config_key *key;
		char name[64];

		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if (t[i] == '}' || t[i] == ']')
			depth--;
		else if (t[i] == '\'')
			return fail_at(p, -EINVAL, i,
				       "syntax error: single quotes; JSON strings take double quotes");
		if (t[i] != '"')
			continue;
		start = i + 1;
		for (i = start; i < p->len && t[i] != '"'; i++) {
			if ((unsigned char)t[i] < 0x20)
				return fail_at(p, -EINVAL, i,
					       "syntax error: control character in a string; escape it (\\n, \\t, \\u00XX)");
			if (t[i] == '\\')
				i++;
		}
		end = i;
		for (k = end + 1; k < p->len && isspace((unsigned char)t[k]); k++)
			;
		if (depth != 1 || k >= p->len || t[k] != ':')
			continue;
		n = decode_key(t + start, end - start, name, sizeof(name));
		if (n == SIZE_MAX)
			return fail_at(p, -EINVAL, start - 1,
				       "a key contains a NUL character (\\u0000)");
		key = n <= sizeof(name) ? config_key_find(name, n) : NULL;
		if (!key)
			continue;
		if (seen[key - config_keys]) {
			size_t line, col;

			position(t, seen[key - config_keys] - 1, &line, &col);
			return fail_at(p, -EINVAL, start - 1,
				       "key \"%s\" given twice (first at line %zu, column %zu)",
				       key->name, line, col);
		}
		seen[key - config_keys] = start;
	}
	return 0;
}

/* json-c says "unexpected character" for text after the value; say what it is. */
static bool is_trailing(const struct parser *p, size_t err_off)
{
	_cleanup_(tokener_freep) struct json_tokener *tok = json_tokener_new();
	_cleanup_(json_putp) struct json_object *o = NULL;
	size_t end;

	if (!tok)
		return false;
	o = json_tokener_parse_ex(tok, p->text, (int)p->len + 1);
	if (!o)
		return false;
	end = json_tokener_get_parse_end(tok);
	while (end < err_off && isspace((unsigned char)p->text[end]))
		end++;
	return end == err_off;
}

int config_parse_json(struct parser *p, struct json_object **out)
{
	_cleanup_(tokener_freep) struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error e;
	size_t off;

	if (!tok)
		return config_fail(p, -ENOMEM, NULL, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* The terminating NUL tells json-c the text ends (else "123" is incomplete). */
	*out = json_tokener_parse_ex(tok, p->text, (int)p->len + 1);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_success)
		return 0; /* *out is NULL for "null" */
	off = json_tokener_get_parse_end(tok);
	if (off > p->len)
		off = p->len;
	if (e == json_tokener_error_parse_eof && strspn(p->text, " \t\r\n") == p->len)
		return config_fail(p, -EINVAL, NULL, "is empty; a file with no settings is {}");
	if (e == json_tokener_error_parse_eof)
		return fail_at(p, -EINVAL, off, "syntax error: the file ends inside a value");
	if (e == json_tokener_error_parse_unexpected && is_trailing(p, off))
		return fail_at(p, -EINVAL, off, "syntax error: trailing garbage after the JSON value");
	return fail_at(p, -EINVAL, off, "syntax error: %s", json_tokener_error_desc(e));
}
