"""hello-birthday: remembers dates of birth and greets people."""
