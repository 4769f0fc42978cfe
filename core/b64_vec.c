/* base64url kernels for x86 with SSSE3 and AVX2, chosen at run time: the
 * classic vector scheme (W. Muła and D. Lemire, "Faster Base64 Encoding and
 * Decoding Using AVX2 Instructions", 2018) with the tables redone for the
 * URL alphabet. Sections are base64url from end to end, ciphertext
 * included, so this is what a section costs beyond its cipher. */
#include "config.h"

#include "b64_vec.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define SSSE3 __attribute__((target("ssse3")))
#define AVX2 __attribute__((target("avx2")))

/* A 16-byte table, once per 128-bit lane. */
#define TABLE16(t) _mm_setr_epi8(t)
#define TABLE32(t) _mm256_setr_epi8(t, t)

/* Bytes b0 b1 b2 of each group of three, placed as b1 b0 b2 b1 in a 32-bit
 * word, so that one multiply-high and one multiply-low per 16 bits bring
 * each 6-bit index to the bottom of its own byte. */
#define ENC_SHUF 1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10
#define ENC_MASK_HI 0x0fc0fc00
#define ENC_MUL_HI 0x04000040
#define ENC_MASK_LO 0x003f03f0
#define ENC_MUL_LO 0x01000010
/* What to add to an index, by its class: 0 for 0..25 ('A'), 1 for 26..51
 * ('a'), 2..11 for 52..61 ('0'), 12 for 62 ('-'), 13 for 63 ('_'); the
 * class is the index less 51 (floored at 0), plus 1 above 25. */
#define ENC_ADD 65, 71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 0, 0

/* Validity by nibbles: a character is outside the alphabet when the bits
 * its low nibble selects meet the one bit of its high nibble's group:
 * 0x2_ ('-' only), 0x3_ (digits), 0x4_ and 0x6_ (letters from 1), 0x5_
 * (P..Z and '_'), 0x7_ (p..z), and every other high nibble (bit 5). */
#define DEC_LO 0x25, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x21, 0x23, 0x3b, 0x3b, 0x3a, 0x3b, 0x33
#define DEC_HI 0x20, 0x20, 0x01, 0x02, 0x04, 0x08, 0x04, 0x10, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20
/* What turns a character into its value, by high nibble; '_' shares 0x5_
 * with 'P'..'Z' and takes 33 more. */
#define DEC_ADD 0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0
#define DEC_UNDERSCORE_EXTRA 33
/* Four 6-bit values to three bytes: pairs joined by a multiply-add of
 * bytes, pairs of pairs by one of 16-bit words, then the bytes of each
 * 32-bit word taken high first. */
#define DEC_PAIRS 0x01400140
#define DEC_QUADS 0x00011000
#define DEC_SHUF 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1

SSSE3 static size_t enc_ssse3(const uint8_t *in, size_t len, char *out)
{
	const __m128i shuf = TABLE16(ENC_SHUF), add = TABLE16(ENC_ADD);
	size_t i = 0, o = 0;

	/* Each load reads 16 bytes and uses 12. */
	for (; i + 16 <= len; i += 12, o += 16) {
		__m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(in + i)), shuf), cls;
		v = _mm_or_si128(
		    _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(ENC_MASK_HI)), _mm_set1_epi32(ENC_MUL_HI)),
		    _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(ENC_MASK_LO)), _mm_set1_epi32(ENC_MUL_LO)));
		cls = _mm_sub_epi8(_mm_subs_epu8(v, _mm_set1_epi8(51)), _mm_cmpgt_epi8(v, _mm_set1_epi8(25)));
		_mm_storeu_si128((__m128i *)(out + o), _mm_add_epi8(v, _mm_shuffle_epi8(add, cls)));
	}
	return i;
}

AVX2 static size_t enc_avx2(const uint8_t *in, size_t len, char *out)
{
	const __m256i shuf = TABLE32(ENC_SHUF), add = TABLE32(ENC_ADD);
	size_t i = 0, o = 0;

	/* Two 16-byte loads, 12 bytes apart, one per lane: 28 bytes read
	 * and 24 used, and never a byte before in. */
	for (; i + 28 <= len; i += 24, o += 32) {
		__m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(in + i))),
						    _mm_loadu_si128((const __m128i *)(in + i + 12)), 1),
			cls;
		v = _mm256_shuffle_epi8(v, shuf);
		v = _mm256_or_si256(_mm256_mulhi_epu16(_mm256_and_si256(v, _mm256_set1_epi32(ENC_MASK_HI)),
						       _mm256_set1_epi32(ENC_MUL_HI)),
				    _mm256_mullo_epi16(_mm256_and_si256(v, _mm256_set1_epi32(ENC_MASK_LO)),
						       _mm256_set1_epi32(ENC_MUL_LO)));
		cls = _mm256_sub_epi8(_mm256_subs_epu8(v, _mm256_set1_epi8(51)),
				      _mm256_cmpgt_epi8(v, _mm256_set1_epi8(25)));
		_mm256_storeu_si256((__m256i *)(out + o), _mm256_add_epi8(v, _mm256_shuffle_epi8(add, cls)));
	}
	return i;
}

SSSE3 static size_t dec_ssse3(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const __m128i lo_t = TABLE16(DEC_LO), hi_t = TABLE16(DEC_HI), add_t = TABLE16(DEC_ADD);
	const __m128i shuf = TABLE16(DEC_SHUF), nib = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
	size_t i = 0, o = 0;

	/* Each store writes 16 bytes, of which 12 are the block's. */
	for (; i + 16 <= len && o + 16 <= cap; i += 16, o += 12) {
		__m128i c = _mm_loadu_si128((const __m128i *)(in + i)), v;
		__m128i hi = _mm_and_si128(_mm_srli_epi32(c, 4), nib), lo = _mm_and_si128(c, nib);
		v = _mm_and_si128(_mm_shuffle_epi8(lo_t, lo), _mm_shuffle_epi8(hi_t, hi));
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero)) != 0xffff)
			break;
		v = _mm_add_epi8(c, _mm_shuffle_epi8(add_t, hi));
		v = _mm_add_epi8(
		    v, _mm_and_si128(_mm_cmpeq_epi8(c, _mm_set1_epi8('_')), _mm_set1_epi8(DEC_UNDERSCORE_EXTRA)));
		v = _mm_madd_epi16(_mm_maddubs_epi16(v, _mm_set1_epi32(DEC_PAIRS)), _mm_set1_epi32(DEC_QUADS));
		_mm_storeu_si128((__m128i *)(out + o), _mm_shuffle_epi8(v, shuf));
	}
	return i;
}

AVX2 static size_t dec_avx2(const char *in, size_t len, uint8_t *out, size_t cap)
{
	const __m256i lo_t = TABLE32(DEC_LO), hi_t = TABLE32(DEC_HI), add_t = TABLE32(DEC_ADD);
	const __m256i shuf = TABLE32(DEC_SHUF), nib = _mm256_set1_epi8(0x0f);
	const __m256i pack = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
	size_t i = 0, o = 0;

	/* Each store writes 32 bytes, of which 24 are the block's. */
	for (; i + 32 <= len && o + 32 <= cap; i += 32, o += 24) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(in + i)), v;
		__m256i hi = _mm256_and_si256(_mm256_srli_epi32(c, 4), nib), lo = _mm256_and_si256(c, nib);
		if (!_mm256_testz_si256(_mm256_shuffle_epi8(lo_t, lo), _mm256_shuffle_epi8(hi_t, hi)))
			break;
		v = _mm256_add_epi8(c, _mm256_shuffle_epi8(add_t, hi));
		v = _mm256_add_epi8(v, _mm256_and_si256(_mm256_cmpeq_epi8(c, _mm256_set1_epi8('_')),
							_mm256_set1_epi8(DEC_UNDERSCORE_EXTRA)));
		v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, _mm256_set1_epi32(DEC_PAIRS)),
				      _mm256_set1_epi32(DEC_QUADS));
		v = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(v, shuf), pack);
		_mm256_storeu_si256((__m256i *)(out + o), v);
	}
	return i;
}

static const spn_b64_vec_t kernels[] = {
    {"avx2", enc_avx2, dec_avx2},
    {"ssse3", enc_ssse3, dec_ssse3},
};

const spn_b64_vec_t *spn_b64_vec_list(size_t *n)
{
	/* Before any constructor that asks, libgcc's own may not have run. */
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		*n = 2;
		return kernels;
	}
	if (__builtin_cpu_supports("ssse3")) {
		*n = 1;
		return kernels + 1;
	}
	*n = 0;
	return NULL;
}

#else

const spn_b64_vec_t *spn_b64_vec_list(size_t *n)
{
	*n = 0;
	return NULL;
}

#endif
