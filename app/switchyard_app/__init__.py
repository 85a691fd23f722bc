"""The sample service that switchyard deploys: small, but it behaves like a real one."""
