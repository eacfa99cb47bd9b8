/* SPDX-License-Identifier: MIT */
/* Numbers on command lines (see number.h). */
#include <errno.h>

#include "util/number.h"

int e4_parse_u64(const char *s, bool suffixes, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	bool overflow = false;
	unsigned shift = 0;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - digit) / 10)
			overflow = true;
		v = v * 10 + digit;
	}
	if (p == s)
		return -EINVAL;
	if (suffixes && *p) {
		switch (*p) {
		case 'k': case 'K': shift = 10; break;
		case 'm': case 'M': shift = 20; break;
		case 'g': case 'G': shift = 30; break;
		case 't': case 'T': shift = 40; break;
		case 's': case 'S': shift = 9; break;
		default: return -EINVAL;
		}
		p++;
	}
	if (*p)
		return -EINVAL;
	if (overflow || (shift && v > (UINT64_MAX >> shift)))
		return -ERANGE;
	*out = v << shift;
	return 0;
}
