/* golden DKIM-Signature fields for dkim_test.c, verified with dkimpy */
#define GOLDEN_RSA                                                                                 \
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"                                    \
    "\td=football.example.com; s=test; t=1528637909;\r\n"                                          \
    "\th=from:to:subject:date:message-id:from;\r\n"                                                \
    "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"                                       \
    "\tb=dJ+5UbTa1bvcV1hIOIzzPYg9iGpC4hqSr9U7dfevVeBTVRZ1GcpNVYEIvz63gLgatcFIHS\r\n"               \
    "\t fiXt4i9Ko8MWM7PzxPPC+UxJUIIxj+pDlc9iUhEfJ1jBfm9+f7F8IYTEYYRcS3bf4i7+FBo3\r\n"              \
    "\t iqSZ/HLyjBNHzHhIzh7xtFSWoWO4o=\r\n"
#define GOLDEN_ED25519                                                                             \
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"                                \
    "\td=football.example.com; s=brisbane; t=1528637909;\r\n"                                      \
    "\th=from:to:subject:date:message-id:from;\r\n"                                                \
    "\tbh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"                                       \
    "\tb=lwFgCw3xVrxpKZoEovEidZjC7B3U16tUE/OlvX3ldHzE8OWAQ/qCksa10i/MDuckY+gfKc\r\n"               \
    "\t Ck/3RENP9vvbAnCQ==\r\n"
