/* S/MIME test fixtures (EC P-256, valid for 100 years from 2026): a CA, Alice
 * (subjectAltName email:alice@example.com) and Bob (subject emailAddress
 * bob@example.com only), made with the openssl command line; test data only */
#ifndef SMIME_FIXTURES_H
#define SMIME_FIXTURES_H
static const char CA_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBmDCCAT+gAwIBAgIUOPO3Ahn4+TKL29XW6+7i0UGa4kowCgYIKoZIzj0EAwIw\n"
                             "GTEXMBUGA1UEAwwOdHhtYWlsIHRlc3QgQ0EwIBcNMjYxMjA4MDEyNzA3WhgPMjEy\n"
                             "NjExMTQwMTI3MDdaMBkxFzAVBgNVBAMMDnR4bWFpbCB0ZXN0IENBMFkwEwYHKoZI\n"
                             "zj0CAQYIKoZIzj0DAQcDQgAEbj1SJU70Ze+yZjr34Nl/VP27AdklW18CkOxvuKKP\n"
                             "svxumFlqkdxhT2MzXxCZQZWfIPuMZfydLA3T5DbP5oS4n6NjMGEwHQYDVR0OBBYE\n"
                             "FKqzBiW68/1aKSCiHK7/uFMf9/grMB8GA1UdIwQYMBaAFKqzBiW68/1aKSCiHK7/\n"
                             "uFMf9/grMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49\n"
                             "BAMCA0cAMEQCIGAQxBe78MhnFdLbTNbFW7LIFStyfm6fbOztDfnawxJKAiARuxU9\n"
                             "bqpPeJDeGuH1Dn0xgmVO7bQWuNp+4rMDZgowHA==\n"
                             "-----END CERTIFICATE-----\n";
static const char ALICE_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                                "MIIBtDCCAVqgAwIBAgIUWOVCEYgKFAgHvXq3an/woPTGNPswCgYIKoZIzj0EAwIw\n"
                                "GTEXMBUGA1UEAwwOdHhtYWlsIHRlc3QgQ0EwIBcNMjYxMjA4MDEyNzA3WhgPMjEy\n"
                                "NjExMTQwMTI3MDdaMBAxDjAMBgNVBAMMBUFsaWNlMFkwEwYHKoZIzj0CAQYIKoZI\n"
                                "zj0DAQcDQgAECvOMxgypZbgo/R+viIv/XayqoaP3kooxl4xjPYAJticjE096eH3S\n"
                                "hChfbWSMmSGYb+++xjQEUqkEd76nTXeSJKOBhjCBgzAcBgNVHREEFTATgRFhbGlj\n"
                                "ZUBleGFtcGxlLmNvbTAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUH\n"
                                "AwQwHQYDVR0OBBYEFJBNnVr7BnlrIo/vPP5JPRg9rndeMB8GA1UdIwQYMBaAFKqz\n"
                                "BiW68/1aKSCiHK7/uFMf9/grMAoGCCqGSM49BAMCA0gAMEUCIHWgfK6CuHrZBCLz\n"
                                "ZltC8lttYBSUFjVHIOebDPvLwBiWAiEA2ftOXNqL8vdW1WvTso6CiMw+RHh4MqrG\n"
                                "RcaF8MbYqjY=\n"
                                "-----END CERTIFICATE-----\n";
static const char ALICE_KEY[] = "-----BEGIN PRIVATE KEY-----\n"
                                "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgu08DnGiDHeHr45oF\n"
                                "ZQoRWCH2vwzcziiNQGaEQnlKyOihRANCAAQK84zGDKlluCj9H6+Ii/9drKqho/eS\n"
                                "ijGXjGM9gAm2JyMTT3p4fdKEKF9tZIyZIZhv777GNARSqQR3vqdNd5Ik\n"
                                "-----END PRIVATE KEY-----\n";
static const char BOB_PEM[] = "-----BEGIN CERTIFICATE-----\n"
                              "MIIBnjCCAUOgAwIBAgIUWOVCEYgKFAgHvXq3an/woPTGNPwwCgYIKoZIzj0EAwIw\n"
                              "GTEXMBUGA1UEAwwOdHhtYWlsIHRlc3QgQ0EwIBcNMjYxMjA4MDEyNzA3WhgPMjEy\n"
                              "NjExMTQwMTI3MDdaMC4xDDAKBgNVBAMMA0JvYjEeMBwGCSqGSIb3DQEJARYPYm9i\n"
                              "QGV4YW1wbGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEQtILWrPPQ0fC\n"
                              "tgSuzqfmq7f8bTEMUbqCr7mgGFAwo32mKXbLmdOE6dMmcC8zaYmse8AiBeks/B3X\n"
                              "61yElAnEWKNSMFAwDgYDVR0PAQH/BAQDAgeAMB0GA1UdDgQWBBQX5sed/NrW8wRP\n"
                              "4QHeGGU9vtIsWzAfBgNVHSMEGDAWgBSqswYluvP9Wikgohyu/7hTH/f4KzAKBggq\n"
                              "hkjOPQQDAgNJADBGAiEAjmOBhM3GapTum7qeoAcMOYkCbxkD6YavUe73kFDQ/K0C\n"
                              "IQCmaxVKYfF9tn6lUnk9+lQlzUdbyDH9Rgufe3Mp5rercw==\n"
                              "-----END CERTIFICATE-----\n";
static const char BOB_KEY[] = "-----BEGIN PRIVATE KEY-----\n"
                              "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgns0NTYr4VXpnDVJt\n"
                              "SE+d1OCW0ByoUnrvv+5kVNQTTaChRANCAARC0gtas89DR8K2BK7Op+art/xtMQxR\n"
                              "uoKvuaAYUDCjfaYpdsuZ04Tp0yZwLzNpiax7wCIF6Sz8HdfrXISUCcRY\n"
                              "-----END PRIVATE KEY-----\n";
#endif
