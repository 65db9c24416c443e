// @ts-nocheck: the validator below is generated JavaScript; its exported type is declared.
// Generated from schemas/http-endpoints.schema.json by scripts/gen-schema.mjs. Do not edit; run `node scripts/gen-schema.mjs`.

/**
 * http_endpoints/config.json (or https_endpoints/config.json): the app's HTTPS endpoints, served at /app/<appId>/endpoint/<route>.
 */
export type HttpEndpointsConfig = HttpEndpoint[];

export interface HttpEndpoint {
  /**
   * The path after /endpoint; starts with /.
   */
  route: string;
  /**
   * GET, POST, PUT, PATCH, DELETE, or * (any method).
   */
  http_method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | '*';
  /**
   * The function the endpoint runs: fn(request, response).
   */
  function_name: string;
  /**
   * NO_VALIDATION; SECRET_AS_QUERY_PARAM (?secret=<value>); VERIFY_PAYLOAD (Endpoint-Signature: sha256=<hex HMAC-SHA256 of the body>).
   */
  validation_method?: 'NO_VALIDATION' | 'SECRET_AS_QUERY_PARAM' | 'VERIFY_PAYLOAD';
  /**
   * The app secret that SECRET_AS_QUERY_PARAM and VERIFY_PAYLOAD check against.
   */
  secret_name?: string;
  /**
   * true: the function's return value is the body unless it set one; false: 204, no body.
   */
  respond_result?: boolean;
  /**
   * The body's format when the request's Accept names neither application/json nor application/ejson.
   */
  return_type?: 'JSON' | 'EJSON';
  fetch_custom_user_data?: boolean;
  create_user_on_auth?: boolean;
  disabled?: boolean;
  [k: string]: unknown | undefined;
}

// ---- precompiled validator (ajv standalone) ----
const __validator = (() => {
  const validate = validate10;
  
  const schema11 = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/http-endpoints.schema.json","title":"HttpEndpointsConfig","description":"http_endpoints/config.json (or https_endpoints/config.json): the app's HTTPS endpoints, served at /app/<appId>/endpoint/<route>.","type":"array","items":{"title":"HttpEndpoint","type":"object","required":["route","http_method","function_name"],"properties":{"route":{"description":"The path after /endpoint; starts with /.","type":"string","pattern":"^/"},"http_method":{"description":"GET, POST, PUT, PATCH, DELETE, or * (any method).","type":"string","enum":["GET","POST","PUT","PATCH","DELETE","*"]},"function_name":{"description":"The function the endpoint runs: fn(request, response).","type":"string","minLength":1},"validation_method":{"description":"NO_VALIDATION; SECRET_AS_QUERY_PARAM (?secret=<value>); VERIFY_PAYLOAD (Endpoint-Signature: sha256=<hex HMAC-SHA256 of the body>).","type":"string","enum":["NO_VALIDATION","SECRET_AS_QUERY_PARAM","VERIFY_PAYLOAD"]},"secret_name":{"description":"The app secret that SECRET_AS_QUERY_PARAM and VERIFY_PAYLOAD check against.","type":"string"},"respond_result":{"description":"true: the function's return value is the body unless it set one; false: 204, no body.","type":"boolean"},"return_type":{"description":"The body's format when the request's Accept names neither application/json nor application/ejson.","type":"string","enum":["JSON","EJSON"]},"fetch_custom_user_data":{"type":"boolean"},"create_user_on_auth":{"type":"boolean"},"disabled":{"type":"boolean"}}}};
  const pattern0 = new RegExp("^/", "u");
  
  function validate10(data, {instancePath="", parentData, parentDataProperty, rootData=data}={}){
  /*# sourceURL="https://fn.dev/schemas/http-endpoints.schema.json" */;
  let vErrors = null;
  let errors = 0;
  if(Array.isArray(data)){
  const len0 = data.length;
  for(let i0=0; i0<len0; i0++){
  let data0 = data[i0];
  if(data0 && typeof data0 == "object" && !Array.isArray(data0)){
  if(data0.route === undefined){
  const err0 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/required",keyword:"required",params:{missingProperty: "route"},message:"must have required property '"+"route"+"'"};
  if(vErrors === null){
  vErrors = [err0];
  }
  else {
  vErrors.push(err0);
  }
  errors++;
  }
  if(data0.http_method === undefined){
  const err1 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/required",keyword:"required",params:{missingProperty: "http_method"},message:"must have required property '"+"http_method"+"'"};
  if(vErrors === null){
  vErrors = [err1];
  }
  else {
  vErrors.push(err1);
  }
  errors++;
  }
  if(data0.function_name === undefined){
  const err2 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/required",keyword:"required",params:{missingProperty: "function_name"},message:"must have required property '"+"function_name"+"'"};
  if(vErrors === null){
  vErrors = [err2];
  }
  else {
  vErrors.push(err2);
  }
  errors++;
  }
  if(data0.route !== undefined){
  let data1 = data0.route;
  if(typeof data1 === "string"){
  if(!pattern0.test(data1)){
  const err3 = {instancePath:instancePath+"/" + i0+"/route",schemaPath:"#/items/properties/route/pattern",keyword:"pattern",params:{pattern: "^/"},message:"must match pattern \""+"^/"+"\""};
  if(vErrors === null){
  vErrors = [err3];
  }
  else {
  vErrors.push(err3);
  }
  errors++;
  }
  }
  else {
  const err4 = {instancePath:instancePath+"/" + i0+"/route",schemaPath:"#/items/properties/route/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err4];
  }
  else {
  vErrors.push(err4);
  }
  errors++;
  }
  }
  if(data0.http_method !== undefined){
  let data2 = data0.http_method;
  if(typeof data2 !== "string"){
  const err5 = {instancePath:instancePath+"/" + i0+"/http_method",schemaPath:"#/items/properties/http_method/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err5];
  }
  else {
  vErrors.push(err5);
  }
  errors++;
  }
  if(!((((((data2 === "GET") || (data2 === "POST")) || (data2 === "PUT")) || (data2 === "PATCH")) || (data2 === "DELETE")) || (data2 === "*"))){
  const err6 = {instancePath:instancePath+"/" + i0+"/http_method",schemaPath:"#/items/properties/http_method/enum",keyword:"enum",params:{allowedValues: schema11.items.properties.http_method.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err6];
  }
  else {
  vErrors.push(err6);
  }
  errors++;
  }
  }
  if(data0.function_name !== undefined){
  let data3 = data0.function_name;
  if(typeof data3 === "string"){
  if(data3.length < 1){
  const err7 = {instancePath:instancePath+"/" + i0+"/function_name",schemaPath:"#/items/properties/function_name/minLength",keyword:"minLength",params:{limit: 1},message:"must NOT have fewer than 1 characters"};
  if(vErrors === null){
  vErrors = [err7];
  }
  else {
  vErrors.push(err7);
  }
  errors++;
  }
  }
  else {
  const err8 = {instancePath:instancePath+"/" + i0+"/function_name",schemaPath:"#/items/properties/function_name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err8];
  }
  else {
  vErrors.push(err8);
  }
  errors++;
  }
  }
  if(data0.validation_method !== undefined){
  let data4 = data0.validation_method;
  if(typeof data4 !== "string"){
  const err9 = {instancePath:instancePath+"/" + i0+"/validation_method",schemaPath:"#/items/properties/validation_method/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err9];
  }
  else {
  vErrors.push(err9);
  }
  errors++;
  }
  if(!(((data4 === "NO_VALIDATION") || (data4 === "SECRET_AS_QUERY_PARAM")) || (data4 === "VERIFY_PAYLOAD"))){
  const err10 = {instancePath:instancePath+"/" + i0+"/validation_method",schemaPath:"#/items/properties/validation_method/enum",keyword:"enum",params:{allowedValues: schema11.items.properties.validation_method.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err10];
  }
  else {
  vErrors.push(err10);
  }
  errors++;
  }
  }
  if(data0.secret_name !== undefined){
  if(typeof data0.secret_name !== "string"){
  const err11 = {instancePath:instancePath+"/" + i0+"/secret_name",schemaPath:"#/items/properties/secret_name/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err11];
  }
  else {
  vErrors.push(err11);
  }
  errors++;
  }
  }
  if(data0.respond_result !== undefined){
  if(typeof data0.respond_result !== "boolean"){
  const err12 = {instancePath:instancePath+"/" + i0+"/respond_result",schemaPath:"#/items/properties/respond_result/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err12];
  }
  else {
  vErrors.push(err12);
  }
  errors++;
  }
  }
  if(data0.return_type !== undefined){
  let data7 = data0.return_type;
  if(typeof data7 !== "string"){
  const err13 = {instancePath:instancePath+"/" + i0+"/return_type",schemaPath:"#/items/properties/return_type/type",keyword:"type",params:{type: "string"},message:"must be string"};
  if(vErrors === null){
  vErrors = [err13];
  }
  else {
  vErrors.push(err13);
  }
  errors++;
  }
  if(!((data7 === "JSON") || (data7 === "EJSON"))){
  const err14 = {instancePath:instancePath+"/" + i0+"/return_type",schemaPath:"#/items/properties/return_type/enum",keyword:"enum",params:{allowedValues: schema11.items.properties.return_type.enum},message:"must be equal to one of the allowed values"};
  if(vErrors === null){
  vErrors = [err14];
  }
  else {
  vErrors.push(err14);
  }
  errors++;
  }
  }
  if(data0.fetch_custom_user_data !== undefined){
  if(typeof data0.fetch_custom_user_data !== "boolean"){
  const err15 = {instancePath:instancePath+"/" + i0+"/fetch_custom_user_data",schemaPath:"#/items/properties/fetch_custom_user_data/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err15];
  }
  else {
  vErrors.push(err15);
  }
  errors++;
  }
  }
  if(data0.create_user_on_auth !== undefined){
  if(typeof data0.create_user_on_auth !== "boolean"){
  const err16 = {instancePath:instancePath+"/" + i0+"/create_user_on_auth",schemaPath:"#/items/properties/create_user_on_auth/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err16];
  }
  else {
  vErrors.push(err16);
  }
  errors++;
  }
  }
  if(data0.disabled !== undefined){
  if(typeof data0.disabled !== "boolean"){
  const err17 = {instancePath:instancePath+"/" + i0+"/disabled",schemaPath:"#/items/properties/disabled/type",keyword:"type",params:{type: "boolean"},message:"must be boolean"};
  if(vErrors === null){
  vErrors = [err17];
  }
  else {
  vErrors.push(err17);
  }
  errors++;
  }
  }
  }
  else {
  const err18 = {instancePath:instancePath+"/" + i0,schemaPath:"#/items/type",keyword:"type",params:{type: "object"},message:"must be object"};
  if(vErrors === null){
  vErrors = [err18];
  }
  else {
  vErrors.push(err18);
  }
  errors++;
  }
  }
  }
  else {
  const err19 = {instancePath,schemaPath:"#/type",keyword:"type",params:{type: "array"},message:"must be array"};
  if(vErrors === null){
  vErrors = [err19];
  }
  else {
  vErrors.push(err19);
  }
  errors++;
  }
  validate10.errors = vErrors;
  return errors === 0;
  }
  return validate10;
})() as unknown as SchemaValidator;

export interface SchemaError { instancePath: string; keyword: string; message?: string; params: Record<string, unknown> }
export type SchemaValidator = ((data: unknown) => boolean) & { errors?: SchemaError[] | null };
export const validateEndpointsSchema: SchemaValidator = __validator;
export const schemaSource = {"$schema":"http://json-schema.org/draft-07/schema#","$id":"https://fn.dev/schemas/http-endpoints.schema.json","title":"HttpEndpointsConfig","description":"http_endpoints/config.json (or https_endpoints/config.json): the app's HTTPS endpoints, served at /app/<appId>/endpoint/<route>.","type":"array","items":{"title":"HttpEndpoint","type":"object","required":["route","http_method","function_name"],"properties":{"route":{"description":"The path after /endpoint; starts with /.","type":"string","pattern":"^/"},"http_method":{"description":"GET, POST, PUT, PATCH, DELETE, or * (any method).","type":"string","enum":["GET","POST","PUT","PATCH","DELETE","*"]},"function_name":{"description":"The function the endpoint runs: fn(request, response).","type":"string","minLength":1},"validation_method":{"description":"NO_VALIDATION; SECRET_AS_QUERY_PARAM (?secret=<value>); VERIFY_PAYLOAD (Endpoint-Signature: sha256=<hex HMAC-SHA256 of the body>).","type":"string","enum":["NO_VALIDATION","SECRET_AS_QUERY_PARAM","VERIFY_PAYLOAD"]},"secret_name":{"description":"The app secret that SECRET_AS_QUERY_PARAM and VERIFY_PAYLOAD check against.","type":"string"},"respond_result":{"description":"true: the function's return value is the body unless it set one; false: 204, no body.","type":"boolean"},"return_type":{"description":"The body's format when the request's Accept names neither application/json nor application/ejson.","type":"string","enum":["JSON","EJSON"]},"fetch_custom_user_data":{"type":"boolean"},"create_user_on_auth":{"type":"boolean"},"disabled":{"type":"boolean"}}}} as const;
