/*
 * track_tls - certificates of the tracking host: the default one
 * (track_tls_cert_file, track_tls_key_file) and one per customer tracking
 * host (CNAME) in track_tls_cert_dir as <host>.crt + <host>.key, chosen
 * by the client's SNI. Loaded once at start (restart to reload).
 */
#ifndef TX_TRACK_TLS_H
#define TX_TRACK_TLS_H

/* track_tls_load - load every certificate; fatal on a bad one */
void track_tls_load(const char *cert_file, const char *key_pem, const char *cert_dir);
/* track_tls_callback - the gnutls_certificate_retrieve_function2 for MHD */
void *track_tls_callback(void);
/* track_tls_hosts - number of SNI host certificates loaded */
int track_tls_hosts(void);

#endif
