/*
 * Kubernetes resource quantities ("2Gi", "1500M", "500m", "1e9", "0.5"):
 * parsing to a number, so that two spellings of one amount compare equal
 * (the API server writes "1024Mi" back as "1Gi").
 */
#ifndef FO_QUANTITY_H
#define FO_QUANTITY_H

/* 1 and the value when `s` is a quantity, 0 when it is not. */
int fo_quantity_parse(const char *s, long double *out);

#endif
